// bench: load generators behind scripts/bench (benchmarks, never tests).
//   bench ingest  events/s stored by the audit log (AuditLogService.Ingest),
//                 and, as the baseline of the same run, rows/s that
//                 PostgreSQL itself takes by COPY into a scratch table.
//   bench place   PlaceOrder throughput against ECP (orders/s, median latency).
//   bench bridge  the same through the JSON bridge (POST /v1/orders).
// Each prints one JSON line per measurement.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/config.h"
#include "core/grpc/tls.h"
#include "core/ids.h"
#include "core/trace.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"

ABSL_FLAG(std::string, logging_addr, "", "Audit log address (ingest).");
ABSL_FLAG(std::string, ecp_addr, "", "ECP address (place).");
ABSL_FLAG(std::string, bridge_url, "", "JSON bridge base URL, http://host:port (bridge).");
ABSL_FLAG(std::string, bearer_token, "", "bridge: Authorization bearer token.");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA of the mesh.");
ABSL_FLAG(std::string, tls_cert, "", "Client certificate (shopctl's).");
ABSL_FLAG(std::string, tls_key, "", "Client key.");
ABSL_FLAG(std::string, baseline_db_url, "", "ingest: PostgreSQL URL for the COPY baseline.");
ABSL_FLAG(int32_t, streams, 4, "ingest: concurrent Ingest streams.");
ABSL_FLAG(int32_t, batch, 1000, "ingest: events per Ingest message.");
ABSL_FLAG(int32_t, spans_per_trace, 50,
          "ingest: events per trace (and order); 1 = every event a new trace, the worst case "
          "for the trace index.");
ABSL_FLAG(int32_t, concurrency, 16, "place/bridge: concurrent clients.");
ABSL_FLAG(double, seconds, 5, "Length of one measurement.");
ABSL_FLAG(std::string, sku, "MUG-CLASSIC", "place/bridge: the SKU ordered.");

namespace {

// An event shaped like an IMS server span; Renew gives it its ids.
shop::v1::AuditEvent SpanLike(int64_t n) {
  shop::v1::AuditEvent e;
  e.set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
  e.set_service("ims");
  e.set_name("shop.v1.InventoryService/Reserve");
  e.set_span_id(shop::NewSpanId());
  e.set_parent_span_id(shop::NewSpanId());
  e.set_caller("spiffe://shop.local/ns/shop/sa/ops");
  e.set_peer_address("ipv4:127.0.0.1:51234");
  e.mutable_start_time()->set_seconds(1790000000 + n / 1000);
  e.mutable_end_time()->set_seconds(1790000000 + n / 1000);
  auto& a = *e.mutable_attributes();
  a["rpc.system"] = "grpc";
  a["rpc.service"] = "shop.v1.InventoryService";
  a["rpc.method"] = "Reserve";
  a["rpc.grpc.status_code"] = "0";
  return e;
}

// What the mesh sends: a confirmed order is one trace of about 50 spans
// (demo: 49), so by default every 50 events share a new trace id and order
// id; each event has a new time-ordered id from the exporters' generator.
void Renew(shop::v1::IngestRequest& request) {
  const int spans_per_trace = std::max(1, absl::GetFlag(FLAGS_spans_per_trace));
  std::string trace_id, order_id;
  for (int i = 0; i < request.events_size(); ++i) {
    if (i % spans_per_trace == 0) {
      trace_id = shop::NewTraceId();
      order_id = shop::NewId("ord");
    }
    auto& event = *request.mutable_events(i);
    event.set_event_id(shop::NewTimeOrderedUuid());
    event.set_trace_id(trace_id);
    event.set_order_id(order_id);
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Ingest() {
  auto channel = shop::MakeChannel(
      absl::GetFlag(FLAGS_logging_addr), "logging",
      {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key)},
      shop::ChannelOptions{.traced = false});
  if (!channel.ok()) return std::fprintf(stderr, "%s\n", channel.status().ToString().c_str()), 2;
  const int streams = absl::GetFlag(FLAGS_streams);
  const int batch = absl::GetFlag(FLAGS_batch);
  const auto length = std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds));
  std::atomic<int64_t> stored{0};
  std::atomic<bool> failed{false};
  // Made before the clock starts; each send only renews the ids (events
  // must be new, and so are the traces), so the client's share of the two
  // cores goes to sending.
  std::vector<std::vector<shop::v1::IngestRequest>> prepared(streams);
  for (int s = 0; s < streams; ++s) {
    for (int r = 0; r < 8; ++r) {
      shop::v1::IngestRequest request;
      for (int i = 0; i < batch; ++i) *request.add_events() = SpanLike(r * batch + i);
      prepared[s].push_back(std::move(request));
    }
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      auto stub = shop::v1::AuditLogService::NewStub(*channel);
      for (size_t k = 0; std::chrono::steady_clock::now() - start < length && !failed; ++k) {
        shop::v1::IngestRequest& request = prepared[s][k % prepared[s].size()];
        Renew(request);
        grpc::ClientContext ctx;
        shop::v1::IngestResponse response;
        auto writer = stub->Ingest(&ctx, &response);
        writer->Write(request);
        writer->WritesDone();
        grpc::Status status = writer->Finish();
        if (!status.ok()) {
          std::fprintf(stderr, "ingest failed: %s\n", status.error_message().c_str());
          failed = true;
          return;
        }
        stored += response.accepted();
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double ingest_rate = stored / elapsed;

  // Baseline: the same rows by COPY straight into an empty scratch table
  // shaped like the log's, with the same indexes.
  double copy_rate = 0;
  if (!absl::GetFlag(FLAGS_baseline_db_url).empty()) {
    pqxx::connection c(absl::GetFlag(FLAGS_baseline_db_url));
    {
      pqxx::work w(c);
      w.exec("DROP TABLE IF EXISTS bench_copy_baseline");
      w.exec("CREATE TABLE bench_copy_baseline (LIKE audit_records INCLUDING INDEXES)");
      w.commit();
    }
    std::vector<std::string> lines;
    int64_t rows = std::max<int64_t>(stored.load(), 20000);
    lines.reserve(rows);
    shop::v1::IngestRequest request;
    for (int i = 0; i < batch; ++i) *request.add_events() = SpanLike(i);
    for (int64_t i = 0; i < rows; ++i) {
      if (i % batch == 0) Renew(request);  // the same stream as the log was sent
      const shop::v1::AuditEvent& e = request.events(static_cast<int>(i % batch));
      std::string bytes = e.SerializeAsString();
      std::string hex = absl::BytesToHexString(bytes);
      lines.push_back(absl::StrCat(i + 1, "\t", e.event_id(), "\t1\tims\t", e.name(), "\t",
                                   e.trace_id(), "\t", e.order_id(), "\t\t", e.caller(),
                                   "\t0\t2026-11-22 00:00:00+00\t2026-11-22 00:00:00+00\t\\\\x",
                                   hex, "\t\\\\x", std::string(64, 'a')));
    }
    auto copy_start = std::chrono::steady_clock::now();
    for (size_t at = 0; at < lines.size(); at += batch) {
      pqxx::work w(c);
      std::vector<std::string> columns = {"sequence", "event_id",    "kind",       "service",
                                          "name",     "trace_id",    "order_id",   "customer_id",
                                          "caller",   "status_code", "event_time", "received_at",
                                          "record",   "leaf_hash"};
      pqxx::tablewriter writer(w, "bench_copy_baseline", columns.begin(), columns.end());
      for (size_t i = at; i < std::min(lines.size(), at + batch); ++i)
        writer.write_raw_line(lines[i]);
      writer.complete();
      w.commit();
    }
    double copy_elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - copy_start).count();
    copy_rate = lines.size() / copy_elapsed;
    pqxx::work w(c);
    w.exec("DROP TABLE bench_copy_baseline");
    w.commit();
  }
  std::printf(
      "{\"mode\":\"ingest\",\"streams\":%d,\"batch\":%d,\"spans_per_trace\":%d,"
      "\"seconds\":%.2f,\"stored\":%lld,"
      "\"events_per_s\":%.0f,\"copy_baseline_rows_per_s\":%.0f,\"ratio\":%.3f}\n",
      streams, batch, absl::GetFlag(FLAGS_spans_per_trace), elapsed,
      static_cast<long long>(stored.load()), ingest_rate, copy_rate,
      copy_rate > 0 ? ingest_rate / copy_rate : 0.0);
  return failed ? 1 : 0;
}

// Runs `call` from `concurrency` threads for the measured time; prints the
// rate of successful calls and the median latency.
int Load(const char* mode, const std::function<bool()>& call) {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const auto length = std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds));
  std::atomic<int64_t> ok{0}, failed{0};
  std::vector<std::vector<double>> latencies(concurrency);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      while (std::chrono::steady_clock::now() - start < length) {
        auto begin = std::chrono::steady_clock::now();
        bool good = call();
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                .count());
        (good ? ok : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::printf(
      "{\"mode\":\"%s\",\"concurrency\":%d,\"seconds\":%.2f,\"ok\":%lld,\"failed\":%lld,"
      "\"per_s\":%.1f,\"median_ms\":%.1f}\n",
      mode, concurrency, elapsed, static_cast<long long>(ok.load()),
      static_cast<long long>(failed.load()), ok / elapsed, Median(all));
  return failed > ok / 100 ? 1 : 0;  // more than 1% failures spoils the figure
}

shop::v1::PlaceOrderRequest Order() {
  shop::v1::PlaceOrderRequest request;
  auto* line = request.add_lines();
  line->set_sku(absl::GetFlag(FLAGS_sku));
  line->set_quantity(1);
  auto* a = request.mutable_shipping_address();
  a->set_name("Bench Mark");
  a->set_line1("1 Load St");
  a->set_city("Springfield");
  a->set_region("IL");
  a->set_postal_code("62701");
  a->set_country_code("US");
  request.set_payment_method_token("pm_card_visa");
  request.set_idempotency_key(shop::NewId("bench"));
  return request;
}

int Place() {
  auto channel = shop::MakeChannel(
      absl::GetFlag(FLAGS_ecp_addr), "ecp",
      {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key)});
  if (!channel.ok()) return std::fprintf(stderr, "%s\n", channel.status().ToString().c_str()), 2;
  auto stub = shop::v1::CustomerService::NewStub(*channel);
  return Load("place", [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ctx.AddMetadata(shop::kCustomerHeader, "bench-customer");
    shop::v1::PlaceOrderResponse response;
    grpc::Status status = stub->PlaceOrder(&ctx, Order(), &response);
    if (!status.ok()) std::fprintf(stderr, "place: %s\n", status.error_message().c_str());
    return status.ok();
  });
}

int Bridge() {
  const std::string url = absl::GetFlag(FLAGS_bridge_url);
  const std::string token = absl::GetFlag(FLAGS_bearer_token);
  const std::string body = absl::StrFormat(
      R"({"lines":[{"sku":"%s","quantity":1}],"shippingAddress":{"name":"Bench Mark",)"
      R"("line1":"1 Load St","city":"Springfield","region":"IL","postalCode":"62701",)"
      R"("countryCode":"US"},"paymentMethodToken":"pm_card_visa"})",
      absl::GetFlag(FLAGS_sku));
  return Load("bridge", [&] {
    thread_local httplib::Client client = [&] {
      httplib::Client c(url);
      c.set_read_timeout(30, 0);
      return c;
    }();
    httplib::Headers headers = {{"Authorization", "Bearer " + token},
                                {"Idempotency-Key", shop::NewId("bench")}};
    auto result = client.Post("/v1/orders", headers, body, "application/json");
    if (!result || result->status != 200) {
      std::fprintf(stderr, "bridge: %s\n",
                   result ? result->body.c_str() : httplib::to_string(result.error()).c_str());
      return false;
    }
    return true;
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = shop::InitProcess(argc, argv, "bench", "bench ingest|place|bridge");
  std::string mode = args.size() > 1 ? args[1] : "";
  if (mode == "ingest") return Ingest();
  if (mode == "place") return Place();
  if (mode == "bridge") return Bridge();
  std::fprintf(stderr, "usage: bench ingest|place|bridge [flags]\n");
  return 2;
}
