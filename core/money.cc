#include "core/money.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "shop/v1/types.pb.h"

namespace shop {
namespace {

constexpr int64_t kNanosPerUnit = 1'000'000'000;
using Int128 = __int128;

Int128 TotalNanos(const Money& m) { return Int128(m.units) * kNanosPerUnit + m.nanos; }

absl::StatusOr<Money> FromTotalNanos(const std::string& currency, Int128 total) {
  Int128 units = total / kNanosPerUnit;
  if (units > std::numeric_limits<int64_t>::max() || units < std::numeric_limits<int64_t>::min()) {
    return absl::OutOfRangeError("money amount overflows");
  }
  Money m;
  m.currency = currency;
  m.units = static_cast<int64_t>(units);
  m.nanos = static_cast<int32_t>(total % kNanosPerUnit);  // same sign as units
  return m;
}

int64_t Pow10(int digits) {
  int64_t p = 1;
  for (int i = 0; i < digits; ++i) p *= 10;
  return p;
}

}  // namespace

int MinorUnitDigits(absl::string_view currency) {
  if (currency == "USD" || currency == "EUR" || currency == "GBP" || currency == "CHF" ||
      currency == "CAD" || currency == "AUD") {
    return 2;
  }
  if (currency == "JPY") return 0;
  return -1;
}

Money ZeroMoney(absl::string_view currency) { return Money{std::string(currency), 0, 0}; }

absl::StatusOr<Money> MoneyFromProto(const shop::v1::Money& proto) {
  if (MinorUnitDigits(proto.currency_code()) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported currency code \"", proto.currency_code(), "\""));
  }
  if (proto.nanos() <= -kNanosPerUnit || proto.nanos() >= kNanosPerUnit) {
    return absl::InvalidArgumentError("nanos must be within (-1e9, 1e9)");
  }
  if ((proto.units() > 0 && proto.nanos() < 0) || (proto.units() < 0 && proto.nanos() > 0)) {
    return absl::InvalidArgumentError("units and nanos must have the same sign");
  }
  return Money{proto.currency_code(), proto.units(), proto.nanos()};
}

void MoneyToProto(const Money& money, shop::v1::Money* proto) {
  proto->set_currency_code(money.currency);
  proto->set_units(money.units);
  proto->set_nanos(money.nanos);
}

absl::StatusOr<Money> AddMoney(const Money& a, const Money& b) {
  if (a.currency != b.currency) {
    return absl::InvalidArgumentError(absl::StrCat("cannot add ", a.currency, " and ", b.currency));
  }
  return FromTotalNanos(a.currency, TotalNanos(a) + TotalNanos(b));
}

absl::StatusOr<Money> MultiplyMoney(const Money& a, int64_t factor) {
  Int128 total = TotalNanos(a) * factor;  // |units| < 2^63, factor < 2^63: fits in 2^127
  return FromTotalNanos(a.currency, total);
}

absl::StatusOr<Money> ApplyBasisPoints(const Money& a, int64_t basis_points) {
  int digits = MinorUnitDigits(a.currency);
  if (digits < 0) return absl::InvalidArgumentError("unsupported currency " + a.currency);
  const Int128 nanos_per_minor = kNanosPerUnit / Pow10(digits);
  // Work in minor units scaled by 10000 so that rounding happens once.
  Int128 scaled = TotalNanos(a) * basis_points;  // nanos × bp
  Int128 divisor = nanos_per_minor * 10000;
  Int128 minor = scaled / divisor;
  Int128 remainder = scaled % divisor;
  if (remainder < 0) remainder = -remainder;
  if (remainder * 2 >= divisor) minor += (scaled < 0 ? -1 : 1);
  return FromTotalNanos(a.currency, minor * nanos_per_minor);
}

int CompareMoney(const Money& a, const Money& b) {
  Int128 x = TotalNanos(a), y = TotalNanos(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

absl::StatusOr<int64_t> ToMinorUnits(const Money& money) {
  int digits = MinorUnitDigits(money.currency);
  if (digits < 0) return absl::InvalidArgumentError("unsupported currency " + money.currency);
  const int64_t nanos_per_minor = kNanosPerUnit / Pow10(digits);
  if (money.nanos % nanos_per_minor != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount has fractions smaller than the ", money.currency, " minor unit"));
  }
  Int128 minor = Int128(money.units) * Pow10(digits) + money.nanos / nanos_per_minor;
  if (minor > std::numeric_limits<int64_t>::max() || minor < std::numeric_limits<int64_t>::min()) {
    return absl::OutOfRangeError("amount overflows");
  }
  return static_cast<int64_t>(minor);
}

absl::StatusOr<Money> FromMinorUnits(absl::string_view currency, int64_t minor_units) {
  int digits = MinorUnitDigits(currency);
  if (digits < 0) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported currency ", currency));
  }
  return FromTotalNanos(std::string(currency),
                        Int128(minor_units) * (kNanosPerUnit / Pow10(digits)));
}

std::string FormatMoney(const Money& money) {
  int digits = std::max(MinorUnitDigits(money.currency), 0);
  bool negative = money.units < 0 || money.nanos < 0;
  uint64_t units = negative ? -static_cast<uint64_t>(money.units) : money.units;
  int64_t nanos = negative ? -int64_t{money.nanos} : money.nanos;
  std::string frac = absl::StrFormat("%09d", nanos);
  // Keep the currency's digits, plus any non-zero finer digits.
  size_t keep = frac.find_last_not_of('0');
  keep = (keep == std::string::npos) ? 0 : keep + 1;
  keep = std::max<size_t>(keep, digits);
  std::string text = absl::StrCat(money.currency, " ", negative ? "-" : "", units);
  if (keep > 0) absl::StrAppend(&text, ".", frac.substr(0, keep));
  return text;
}

}  // namespace shop
