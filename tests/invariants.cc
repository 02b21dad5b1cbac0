#include "tests/invariants.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "tests/client.h"

namespace shop::testing {

nlohmann::json FetchLedger(const Mesh& mesh, const std::string& order_id, std::string* error) {
  auto transport = GatewayClient(mesh);
  if (transport == nullptr) return nlohmann::json();
  payments::GatewayRequest request;
  request.method = "GET";
  request.path = "/v1/test/ledger" + (order_id.empty() ? "" : "?order_id=" + order_id);
  payments::GatewayResponse response = transport->Send(request, absl::Seconds(10));
  if (error != nullptr) {
    *error = absl::StrCat("HTTP ", response.http_status, " ", response.transport_error);
  }
  return nlohmann::json::parse(response.body, nullptr, false);
}

std::string InvariantReport::Summary() const {
  std::string text = absl::StrCat(orders, " orders;");
  for (const auto& [status, count] : by_status) absl::StrAppend(&text, " ", status, "=", count);
  absl::StrAppend(&text, "; ", violations.size(), " invariant violations");
  for (size_t i = 0; i < violations.size() && i < 20; ++i) {
    absl::StrAppend(&text, "\n  - ", violations[i]);
  }
  return text;
}

bool WaitForSettledSagas(const Mesh& mesh, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        try {
          pqxx::connection connection(mesh.db_url("ops"));
          pqxx::work w(connection);
          return w.exec1("SELECT count(*) FROM orders WHERE saga_state <> 'DONE'")[0].as<int>() ==
                 0;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout);
}

InvariantReport CheckInvariants(const Mesh& mesh) {
  InvariantReport report;
  auto violate = [&](std::string text) { report.violations.push_back(std::move(text)); };

  struct OrderFacts {
    std::string status;
    std::string saga;
    int64_t total_cents = 0;
  };
  std::map<std::string, OrderFacts> orders;
  std::map<std::string, int64_t> live_units;  // sku → units of live orders
  {
    pqxx::connection connection(mesh.db_url("ops"));
    pqxx::work w(connection);
    for (const auto& row :
         w.exec("SELECT order_id, status, saga_state, total_units * 100 + total_nanos / 10000000 "
                "FROM orders")) {
      orders[row[0].as<std::string>()] =
          OrderFacts{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<int64_t>()};
    }
    for (const auto& row :
         w.exec("SELECT l.sku, sum(l.quantity) FROM order_lines l JOIN orders o USING (order_id) "
                "WHERE o.status IN ('CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED') "
                "GROUP BY l.sku")) {
      live_units[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
  }
  report.orders = static_cast<int>(orders.size());
  for (const auto& [id, facts] : orders) {
    ++report.by_status[facts.status];
    if (facts.saga != "DONE" || facts.status == "PENDING") {
      violate(absl::StrCat(id, " is unfinished: ", facts.status, "/", facts.saga));
    }
  }

  struct Money {
    int authorizations = 0;
    int64_t authorized = 0, captured = 0, voided = 0, refunded = 0;
  };
  std::map<std::string, Money> money;
  std::string ledger_error;
  nlohmann::json ledger = FetchLedger(mesh, "", &ledger_error);
  if (!ledger.is_object() || !ledger.contains("entries")) {
    violate("the gateway ledger could not be read: " + ledger_error);
  } else {
    for (const auto& entry : ledger["entries"]) {
      std::string order_id = entry.value("order_id", "");
      std::string type = entry.value("type", "");
      int64_t amount = entry.value("amount", int64_t{0});
      Money& m = money[order_id];
      if (type == "authorization") {
        ++m.authorizations;
        m.authorized += amount;
      } else if (type == "capture") {
        m.captured += amount;
      } else if (type == "void") {
        m.voided += amount;
      } else if (type == "refund") {
        m.refunded += amount;
      }
    }
  }
  for (const auto& [order_id, m] : money) {
    auto it = orders.find(order_id);
    if (it == orders.end()) {
      if (m.authorized != m.voided || m.captured != 0) {
        violate(absl::StrCat("money for an order ops does not know: ", order_id));
      }
      continue;
    }
    const OrderFacts& o = it->second;
    if (m.authorizations > 1) {
      violate(absl::StrCat(order_id, " was authorized ", m.authorizations, " times"));
    }
    if (m.authorized != m.captured + m.voided) {
      violate(absl::StrCat(order_id, " (", o.status, ") keeps an authorization hold: authorized ",
                           m.authorized, ", captured ", m.captured, ", voided ", m.voided));
    }
    const bool live = o.status == "CONFIRMED" || o.status == "PROCESSING" ||
                      o.status == "SHIPPED" || o.status == "DELIVERED";
    if (live && (m.captured != o.total_cents || m.refunded != 0)) {
      violate(absl::StrCat(order_id, " is ", o.status, " but captured ", m.captured, " of ",
                           o.total_cents, " and refunded ", m.refunded));
    }
    if (!live && m.captured != m.refunded) {
      violate(absl::StrCat(order_id, " is ", o.status, " but keeps ", m.captured - m.refunded,
                           " captured"));
    }
  }
  for (const auto& [order_id, o] : orders) {
    const bool live = o.status == "CONFIRMED" || o.status == "PROCESSING" ||
                      o.status == "SHIPPED" || o.status == "DELIVERED";
    if (live && money[order_id].captured != o.total_cents) {
      violate(absl::StrCat(order_id, " is ", o.status, " without its capture"));
    }
  }

  pqxx::connection connection(mesh.db_url("ims"));
  pqxx::work w(connection);
  for (const auto& row :
       w.exec("SELECT s.sku, s.available, s.reserved, s.sold, "
              "coalesce((SELECT sum(quantity) FROM stock_movements m WHERE m.sku = s.sku "
              "AND kind = 'SEED'), 0) FROM stock_levels s")) {
    std::string sku = row[0].as<std::string>();
    int64_t available = row[1].as<int64_t>(), reserved = row[2].as<int64_t>(),
            sold = row[3].as<int64_t>(), seeded = row[4].as<int64_t>();
    if (available + reserved + sold != seeded) {
      violate(absl::StrCat(sku, ": available ", available, " + reserved ", reserved, " + sold ",
                           sold, " != seeded ", seeded));
    }
    if (reserved != 0) violate(absl::StrCat(sku, ": ", reserved, " units still reserved"));
    if (sold != live_units[sku]) {
      violate(absl::StrCat(sku, ": sold ", sold, " but live orders hold ", live_units[sku]));
    }
  }
  return report;
}

}  // namespace shop::testing
