// Exact money arithmetic. Amounts are whole units plus nanos (10^-9 units),
// as in google.type.Money; never floating point.
#ifndef SHOP_CORE_MONEY_H_
#define SHOP_CORE_MONEY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop::v1 {
class Money;
}

namespace shop {

struct Money {
  std::string currency;  // ISO 4217, upper case
  int64_t units = 0;
  int32_t nanos = 0;

  friend bool operator==(const Money& a, const Money& b) {
    return a.currency == b.currency && a.units == b.units && a.nanos == b.nanos;
  }
};

// Digits after the decimal point of the currency's minor unit (USD 2,
// JPY 0), or -1 for a currency the mesh does not accept.
int MinorUnitDigits(absl::string_view currency);

Money ZeroMoney(absl::string_view currency);
absl::StatusOr<Money> MoneyFromProto(const shop::v1::Money& proto);
void MoneyToProto(const Money& money, shop::v1::Money* proto);

absl::StatusOr<Money> AddMoney(const Money& a, const Money& b);
absl::StatusOr<Money> MultiplyMoney(const Money& a, int64_t factor);
// a × basis_points / 10000, rounded half away from zero to the currency's
// minor unit (tax is charged in cents, not in nanos).
absl::StatusOr<Money> ApplyBasisPoints(const Money& a, int64_t basis_points);
int CompareMoney(const Money& a, const Money& b);  // same currency assumed

// Amount in minor units (cents); an error if it has finer fractions.
absl::StatusOr<int64_t> ToMinorUnits(const Money& money);
absl::StatusOr<Money> FromMinorUnits(absl::string_view currency, int64_t minor_units);

// "USD 12.34" (always the currency's minor-unit digits, more if needed).
std::string FormatMoney(const Money& money);

}  // namespace shop

#endif  // SHOP_CORE_MONEY_H_
