// Every call traced and audited, end to end: span trees across all services,
// an outage of the audit log that loses nothing, proofs checked by an
// independent verifier, OTLP export, live tail, and tampering in PostgreSQL
// detected with the index of the first bad leaf.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/ids.h"
#include "core/trace.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "tests/client.h"
#include "tests/harness.h"
#include "tests/rfc6962_verifier.h"

namespace shop::testing {
namespace {

using shop::v1::AuditEvent;

class AuditTrailTest : public SuiteMeshTest {
 protected:
  void SetUp() override {
    SuiteMeshTest::SetUp();
    if (HasFatalFailure()) return;
    audit_ = shop::v1::AuditLogService::NewStub(mesh_->Channel("logging", "sre"));
    ecp_ = shop::v1::CustomerService::NewStub(mesh_->Channel("ecp"));
  }

  // Places a good order under a fresh trace; returns {trace id, order id}.
  std::pair<std::string, std::string> PlaceOrder() {
    std::string trace_id = NewTraceId();
    grpc::ClientContext ctx;
    PrepareCall(ctx, "audit-customer", trace_id);
    shop::v1::PlaceOrderResponse response;
    grpc::Status status =
        ecp_->PlaceOrder(&ctx, MakeOrder({{"MUG-CLASSIC", 1}}, "pm_card_visa"), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {trace_id, response.order().order_id()};
  }

  std::vector<AuditEvent> TraceEvents(const std::string& trace_id) {
    std::vector<AuditEvent> events;
    shop::v1::QueryRequest query;
    query.mutable_filter()->set_trace_id(trace_id);
    query.set_page_size(1000);
    while (true) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      shop::v1::QueryResponse page;
      if (!audit_->Query(&ctx, query, &page).ok()) return {};
      for (const auto& r : page.records()) events.push_back(r.event());
      if (page.next_page_token().empty()) return events;
      query.set_page_token(page.next_page_token());
    }
  }

  // The trace of a confirmed order is complete when every hop has reported.
  static bool Complete(const std::vector<AuditEvent>& events) {
    std::set<std::string> seen;
    for (const auto& e : events) seen.insert(e.service() + " " + e.name());
    for (const char* needed :
         {"ecp shop.v1.CustomerService/PlaceOrder",
          "ecp shop.ops.v1.OrderProcessingService/PlaceOrder",
          "ops shop.ops.v1.OrderProcessingService/PlaceOrder", "ops saga.reserve",
          "ops saga.authorize", "ops saga.commit_stock", "ops saga.capture",
          "ims shop.v1.InventoryService/Reserve", "ims shop.v1.InventoryService/Commit",
          "pg-adapter shop.v1.PaymentGatewayService/Authorize",
          "pg-adapter shop.v1.PaymentGatewayService/Capture", "pg-adapter gateway authorize",
          "pg-adapter gateway capture"}) {
      if (seen.count(needed) == 0) return false;
    }
    return true;
  }

  std::vector<AuditEvent> WaitForCompleteTrace(const std::string& trace_id) {
    std::vector<AuditEvent> events;
    WaitFor([&] { return Complete(events = TraceEvents(trace_id)); }, std::chrono::seconds(30));
    return events;
  }

  shop::v1::SignedTreeHead TreeHead() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    shop::v1::SignedTreeHead head;
    EXPECT_TRUE(audit_->GetTreeHead(&ctx, {}, &head).ok());
    return head;
  }

  shop::v1::VerifyLogResponse Verify() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    shop::v1::VerifyLogResponse response;
    grpc::Status status = audit_->VerifyLog(&ctx, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // A superuser session on the audit database: what an attacker with
  // database access has (triggers off for this session).
  std::unique_ptr<pqxx::connection> Superuser() {
    auto c = std::make_unique<pqxx::connection>(
        absl::StrCat("postgresql://postgres@127.0.0.1:", mesh_->postgres_port(), "/logging"));
    pqxx::nontransaction(*c).exec("SET session_replication_role = replica");
    return c;
  }

  std::unique_ptr<shop::v1::AuditLogService::Stub> audit_;
  std::unique_ptr<shop::v1::CustomerService::Stub> ecp_;
};

TEST_F(AuditTrailTest, PlaceOrderProducesACompleteCorrectlyParentedSpanTree) {
  auto [trace_id, order_id] = PlaceOrder();
  std::vector<AuditEvent> events = WaitForCompleteTrace(trace_id);
  ASSERT_TRUE(Complete(events)) << events.size() << " events";

  std::map<std::string, const AuditEvent*> by_span;
  for (const auto& e : events) {
    EXPECT_EQ(e.trace_id(), trace_id);
    EXPECT_TRUE(by_span.emplace(e.span_id(), &e).second) << "span id twice: " << e.span_id();
  }
  int roots = 0;
  for (const auto& e : events) {
    auto parent = by_span.find(e.parent_span_id());
    if (parent == by_span.end()) {
      // Only the edge's span hangs off the caller (the test's own client span).
      ++roots;
      EXPECT_EQ(e.service(), "ecp");
      EXPECT_EQ(e.name(), "shop.v1.CustomerService/PlaceOrder");
      EXPECT_EQ(e.kind(), shop::v1::EVENT_KIND_SERVER_SPAN);
      EXPECT_EQ(e.caller(), "spiffe://shop.local/ns/shop/sa/shopctl");
      EXPECT_EQ(e.customer_id(), "audit-customer");
      continue;
    }
    const AuditEvent& p = *parent->second;
    if (e.kind() == shop::v1::EVENT_KIND_SERVER_SPAN) {
      // A served call is the child of the call made for it, by another service.
      EXPECT_EQ(p.kind(), shop::v1::EVENT_KIND_CLIENT_SPAN) << e.name();
      EXPECT_EQ(p.name(), e.name());
      EXPECT_NE(p.service(), e.service());
      EXPECT_EQ(e.caller(), absl::StrCat("spiffe://shop.local/ns/shop/sa/", p.service()));
      EXPECT_EQ(e.attributes().at("rpc.system"), "grpc");
      EXPECT_EQ(e.attributes().at("rpc.method"), e.name().substr(e.name().find('/') + 1));
      EXPECT_EQ(e.attributes().at("rpc.grpc.status_code"), "0");
      EXPECT_FALSE(e.peer_address().empty());
    } else {
      EXPECT_EQ(p.service(), e.service()) << e.name() << " under " << p.name();
    }
    EXPECT_LE(p.start_time().seconds(), e.start_time().seconds());
  }
  EXPECT_EQ(roots, 1);
  // Saga steps sit under ops' PlaceOrder; the ims calls under the steps;
  // each gateway attempt under the adapter's span, with its retry count.
  for (const auto& e : events) {
    if (e.name() == "saga.reserve") {
      EXPECT_EQ(by_span.at(e.parent_span_id())->name(),
                "shop.ops.v1.OrderProcessingService/PlaceOrder");
      EXPECT_EQ(e.order_id(), order_id);
    }
    if (e.service() == "ims" && e.name() == "shop.v1.InventoryService/Reserve") {
      const AuditEvent& client = *by_span.at(e.parent_span_id());
      EXPECT_EQ(by_span.at(client.parent_span_id())->name(), "saga.reserve");
      EXPECT_EQ(e.order_id(), order_id);
    }
    if (e.name() == "gateway authorize") {
      EXPECT_EQ(by_span.at(e.parent_span_id())->name(), "shop.v1.PaymentGatewayService/Authorize");
      EXPECT_EQ(e.attributes().at("http.resend_count"), "0");
      EXPECT_EQ(e.attributes().at("http.response.status_code"), "200");
    }
  }
  // GetTrace answers the same tree, by trace and by order.
  for (bool by_order : {false, true}) {
    grpc::ClientContext ctx;
    shop::v1::GetTraceRequest request;
    if (by_order)
      request.set_order_id(order_id);
    else
      request.set_trace_id(trace_id);
    shop::v1::GetTraceResponse tree;
    ASSERT_TRUE(audit_->GetTrace(&ctx, request, &tree).ok());
    ASSERT_GE(tree.roots_size(), 1);
    EXPECT_EQ(tree.roots(0).event().name(), "shop.v1.CustomerService/PlaceOrder");
    EXPECT_GE(tree.span_count(), static_cast<int>(events.size()));
  }
}

TEST_F(AuditTrailTest, ExportTraceIsOtlpJson) {
  auto [trace_id, order_id] = PlaceOrder();
  ASSERT_TRUE(Complete(WaitForCompleteTrace(trace_id)));
  grpc::ClientContext ctx;
  shop::v1::ExportTraceRequest request;
  request.set_trace_id(trace_id);
  shop::v1::ExportTraceResponse response;
  ASSERT_TRUE(audit_->ExportTrace(&ctx, request, &response).ok());
  auto json = nlohmann::json::parse(response.otlp_json());
  std::set<std::string> services;
  int spans = 0;
  for (const auto& rs : json.at("resourceSpans")) {
    const auto& attr = rs.at("resource").at("attributes").at(0);
    ASSERT_EQ(attr.at("key"), "service.name");
    services.insert(attr.at("value").at("stringValue").get<std::string>());
    for (const auto& span : rs.at("scopeSpans").at(0).at("spans")) {
      ++spans;
      EXPECT_EQ(span.at("traceId"), trace_id);
      EXPECT_EQ(span.at("spanId").get<std::string>().size(), 16u);
      EXPECT_TRUE(span.at("kind").is_number_integer());
      int kind = span.at("kind");
      EXPECT_TRUE(kind >= 1 && kind <= 3);
      EXPECT_TRUE(span.at("startTimeUnixNano").is_string());
      EXPECT_LE(std::stoll(span.at("startTimeUnixNano").get<std::string>()),
                std::stoll(span.at("endTimeUnixNano").get<std::string>()));
    }
  }
  EXPECT_EQ(services, (std::set<std::string>{"ecp", "ops", "ims", "pg-adapter"}));
  EXPECT_GT(spans, 10);
}

TEST_F(AuditTrailTest, QueryFiltersAndTailFollowsLive) {
  // Follow ims' records only, from now on.
  grpc::ClientContext tail_ctx;
  tail_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  shop::v1::TailRequest tail;
  tail.mutable_filter()->set_service("ims");
  tail.mutable_filter()->set_method("shop.v1.InventoryService/Commit");
  auto reader = audit_->Tail(&tail_ctx, tail);
  auto [trace_id, order_id] = PlaceOrder();
  shop::v1::AuditRecord record;
  ASSERT_TRUE(reader->Read(&record));
  EXPECT_EQ(record.event().service(), "ims");
  EXPECT_EQ(record.event().name(), "shop.v1.InventoryService/Commit");
  EXPECT_EQ(record.event().trace_id(), trace_id);
  tail_ctx.TryCancel();

  // Query by caller, method, order and kind (the adapter's span may still be
  // on its way: its exporter sends in batches).
  shop::v1::QueryRequest query;
  query.mutable_filter()->set_caller("spiffe://shop.local/ns/shop/sa/ops");
  query.mutable_filter()->set_method("shop.v1.PaymentGatewayService/Capture");
  query.mutable_filter()->set_order_id(order_id);
  query.mutable_filter()->set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
  shop::v1::QueryResponse page;
  ASSERT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext ctx;
        return audit_->Query(&ctx, query, &page).ok() && page.records_size() > 0;
      },
      std::chrono::seconds(20)));
  ASSERT_EQ(page.records_size(), 1);  // the adapter's server span, called by ops
  EXPECT_EQ(page.records(0).event().service(), "pg-adapter");

  grpc::ClientContext bad_ctx;
  shop::v1::QueryRequest bad;
  bad.mutable_filter()->set_trace_id("not-hex");
  EXPECT_EQ(audit_->Query(&bad_ctx, bad, &page).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AuditTrailTest, LoggingOutageLosesNoEventAndStoresNoneTwice) {
  mesh_->Stop("logging", SIGKILL);
  std::vector<std::pair<std::string, std::string>> orders;
  for (int i = 0; i < 8; ++i) orders.push_back(PlaceOrder());  // business goes on
  for (const auto& [trace, order] : orders) ASSERT_FALSE(order.empty());
  // The services hold the events on disk meanwhile.
  EXPECT_TRUE(WaitFor([&] { return !ReadFile(mesh_->root() + "/ops.audit-spool").empty(); },
                      std::chrono::seconds(20)));
  ASSERT_TRUE(mesh_->StartAgain("logging"));
  for (const auto& [trace_id, order_id] : orders) {
    std::vector<AuditEvent> events = WaitForCompleteTrace(trace_id);
    ASSERT_TRUE(Complete(events)) << "trace of " << order_id << " incomplete";
    std::set<std::string> ids, spans;
    for (const auto& e : events) {
      EXPECT_TRUE(ids.insert(e.event_id()).second) << "stored twice: " << e.event_id();
      EXPECT_TRUE(spans.insert(e.span_id()).second) << "span twice: " << e.name();
    }
  }
}

TEST_F(AuditTrailTest, ProofsVerifyWithAnIndependentVerifier) {
  const std::string public_key = ReadFile(mesh_->pki() + "/audit-log-signing.pub");
  ASSERT_FALSE(public_key.empty());
  PlaceOrder();
  shop::v1::SignedTreeHead first;
  ASSERT_TRUE(
      WaitFor([&] { return (first = TreeHead()).tree_size() > 20; }, std::chrono::seconds(20)));
  ASSERT_TRUE(VerifySignedTreeHead(public_key, first.tree_size(), first.root_hash(),
                                   first.timestamp_unix_ms(), first.signature()));
  std::string forged_root = first.root_hash();
  forged_root[0] ^= 1;
  EXPECT_FALSE(VerifySignedTreeHead(public_key, first.tree_size(), forged_root,
                                    first.timestamp_unix_ms(), first.signature()));
  for (int64_t sequence : {int64_t{1}, first.tree_size() / 2, first.tree_size()}) {
    grpc::ClientContext ctx;
    shop::v1::GetInclusionProofRequest request;
    request.set_sequence(sequence);
    request.set_tree_size(first.tree_size());
    shop::v1::GetInclusionProofResponse proof;
    ASSERT_TRUE(audit_->GetInclusionProof(&ctx, request, &proof).ok());
    std::vector<std::string> path(proof.audit_path().begin(), proof.audit_path().end());
    EXPECT_TRUE(VerifyInclusionProof(Rfc6962LeafHash(proof.record()), sequence - 1,
                                     first.tree_size(), path, first.root_hash()))
        << "sequence " << sequence;
    shop::v1::AuditRecord record;
    ASSERT_TRUE(record.ParseFromString(proof.record()));
    EXPECT_EQ(record.sequence(), sequence);
    EXPECT_FALSE(VerifyInclusionProof(Rfc6962LeafHash(proof.record() + "x"), sequence - 1,
                                      first.tree_size(), path, first.root_hash()));
  }
  // The log only grows: a later head is consistent with the earlier one.
  PlaceOrder();
  shop::v1::SignedTreeHead second;
  ASSERT_TRUE(WaitFor([&] { return (second = TreeHead()).tree_size() > first.tree_size(); },
                      std::chrono::seconds(20)));
  ASSERT_TRUE(VerifySignedTreeHead(public_key, second.tree_size(), second.root_hash(),
                                   second.timestamp_unix_ms(), second.signature()));
  grpc::ClientContext ctx;
  shop::v1::GetConsistencyProofRequest request;
  request.set_first_size(first.tree_size());
  request.set_second_size(second.tree_size());
  shop::v1::GetConsistencyProofResponse consistency;
  ASSERT_TRUE(audit_->GetConsistencyProof(&ctx, request, &consistency).ok());
  std::vector<std::string> proof(consistency.proof().begin(), consistency.proof().end());
  EXPECT_TRUE(VerifyConsistencyProof(first.tree_size(), second.tree_size(), first.root_hash(),
                                     second.root_hash(), proof));
  EXPECT_FALSE(VerifyConsistencyProof(first.tree_size(), second.tree_size(), forged_root,
                                      second.root_hash(), proof));
}

TEST_F(AuditTrailTest, TheServiceRoleCannotRewriteTheLog) {
  pqxx::connection writer(
      absl::StrCat("postgresql://logging_writer@127.0.0.1:", mesh_->postgres_port(), "/logging"));
  for (const char* sql : {"UPDATE audit_records SET name = 'x' WHERE sequence = 1",
                          "DELETE FROM audit_records WHERE sequence = 1", "TRUNCATE audit_records",
                          "DELETE FROM tree_heads"}) {
    pqxx::work w(writer);
    try {
      w.exec(sql);
      ADD_FAILURE() << "allowed: " << sql;
    } catch (const pqxx::insufficient_privilege&) {
      // expected
    }
  }
}

// Late: it tampers with the shared log (and repairs it after each kind).
// Security review #5, as it was reproduced against a running mesh: with
// shopctl's key, an Ingest of "a Refund served by pg-adapter for ops" was
// stored and signed. Now the log takes the writer from the certificate.
TEST_F(AuditTrailTest, AForgedEventOfAnotherServiceIsRefusedAndTheWriterIsStamped) {
  auto [trace_id, order_id] = PlaceOrder();
  auto ingest = [&](const std::string& identity, const AuditEvent& event) {
    auto stub = shop::v1::AuditLogService::NewStub(mesh_->Channel("logging", identity));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    shop::v1::IngestResponse response;
    auto writer = stub->Ingest(&ctx, &response);
    shop::v1::IngestRequest request;
    *request.add_events() = event;
    writer->Write(request);
    writer->WritesDone();
    return writer->Finish();
  };
  AuditEvent forged;
  forged.set_event_id(NewId("forged"));
  forged.set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
  forged.set_service("pg-adapter");
  forged.set_name("shop.v1.PaymentGatewayService/Refund");
  forged.set_caller("spiffe://shop.local/ns/shop/sa/ops");
  forged.set_order_id(order_id);
  forged.set_trace_id(trace_id);
  for (const char* writer : {"shopctl", "bridge", "ims"}) {
    grpc::Status status = ingest(writer, forged);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << writer;
    EXPECT_EQ(ReasonOf(status), "AUDIT_WRITER_MISMATCH") << writer;
  }
  // shopctl writes its own spans, and the record says who wrote it.
  AuditEvent own = forged;
  own.set_event_id(NewId("own"));
  own.set_service("shopctl");
  own.set_kind(shop::v1::EVENT_KIND_CLIENT_SPAN);
  ASSERT_TRUE(ingest("shopctl", own).ok());
  std::map<std::string, std::string> writers;
  shop::v1::QueryRequest query;
  query.mutable_filter()->set_trace_id(trace_id);
  query.set_page_size(1000);
  ASSERT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext ctx;
        shop::v1::QueryResponse page;
        if (!audit_->Query(&ctx, query, &page).ok()) return false;
        writers.clear();
        for (const auto& r : page.records()) writers[r.event().event_id()] = r.writer();
        return writers.count(own.event_id()) > 0;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(writers.count(forged.event_id()), 0u) << "the forgery is not stored";
  EXPECT_EQ(writers[own.event_id()], "spiffe://shop.local/ns/shop/sa/shopctl");
  // Every other record of the trace was written by the service it names.
  grpc::ClientContext ctx;
  shop::v1::QueryResponse page;
  ASSERT_TRUE(audit_->Query(&ctx, query, &page).ok());
  for (const auto& r : page.records()) {
    EXPECT_EQ(r.writer(), "spiffe://shop.local/ns/shop/sa/" + r.event().service())
        << r.event().name();
  }
}

// Security review #11 (b): whoever owns the database (and the log service's
// own volume) stops the log, deletes the last records with their tree heads
// and nodes, and restarts it. The log then agrees with itself; the auditor's
// kept checkpoint does not.
TEST_F(AuditTrailTest, ZATruncatedTailIsRefusedByTheAuditorsKeptCheckpoint) {
  PlaceOrder();
  ASSERT_TRUE(WaitFor([&] { return TreeHead().tree_size() > 40; }, std::chrono::seconds(20)));
  const std::string kept = mesh_->root() + "/auditor.checkpoint";
  const std::string out = mesh_->root() + "/verify.out";
  const std::string pki = mesh_->pki();
  const std::string verify = absl::StrCat(
      BuildDir(), "/tools/shopctl/shopctl audit verify --logging_addr=", mesh_->address("logging"),
      " --tls_ca=", pki, "/ca.crt --tls_cert=", pki, "/shopctl.crt --tls_key=", pki,
      "/shopctl.key --sre_cert=", pki, "/sre.crt --sre_key=", pki,
      "/sre.key --audit_public_key=", pki, "/audit-log-signing.pub --audit_checkpoint=", kept,
      " > ", out, " 2>&1");
  ASSERT_TRUE(RunCommand(verify)) << ReadFile(out);
  ASSERT_NE(ReadFile(kept), "");
  ASSERT_TRUE(RunCommand(verify)) << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("the log extends the checkpoint kept"), std::string::npos)
      << ReadFile(out);

  mesh_->Stop("logging", SIGTERM);
  {
    auto db = Superuser();
    pqxx::work w(*db);
    // Below the size of the auditor's checkpoint (its second line).
    const std::string note = ReadFile(kept);
    const size_t line = note.find('\n') + 1;
    const int64_t kept_size = std::stoll(note.substr(line, note.find('\n', line) - line));
    ASSERT_GT(kept_size, 10);
    const int64_t keep = kept_size - 10;
    w.exec_params("DELETE FROM audit_records WHERE sequence > $1", keep);
    w.exec_params("DELETE FROM tree_heads WHERE tree_size > $1", keep);
    w.exec_params("DELETE FROM merkle_nodes WHERE (idx + 1) * (1::bigint << level) > $1", keep);
    w.commit();
  }
  std::remove((mesh_->root() + "/audit-log.checkpoint").c_str());
  ASSERT_TRUE(mesh_->StartAgain("logging"));
  // What the log can check alone is consistent...
  EXPECT_TRUE(Verify().ok());
  // ...but not with what the auditor kept.
  EXPECT_FALSE(RunCommand(verify));
  EXPECT_NE(ReadFile(out).find("TAMPERED"), std::string::npos) << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("truncated"), std::string::npos) << ReadFile(out);
}

TEST_F(AuditTrailTest, ZEveryKindOfTamperingIsDetectedAtItsIndex) {
  PlaceOrder();
  ASSERT_TRUE(WaitFor([&] { return TreeHead().tree_size() > 40; }, std::chrono::seconds(20)));
  ASSERT_TRUE(Verify().ok());
  auto db = Superuser();
  auto exec = [&](const std::vector<std::string>& statements) {
    pqxx::work w(*db);
    // The writer waits while we rewrite (its next insert may then clash
    // with a renumbered row: it fails and is retried, as after any outage).
    w.exec("LOCK TABLE audit_records IN EXCLUSIVE MODE");
    for (const auto& sql : statements) w.exec(sql);
    w.commit();
  };
  exec({"CREATE TEMP TABLE original AS SELECT * FROM audit_records WHERE sequence <= 40"});
  auto expect_detected = [&](int64_t index, const char* kind) {
    shop::v1::VerifyLogResponse verdict = Verify();
    EXPECT_FALSE(verdict.ok()) << kind;
    EXPECT_EQ(verdict.first_bad_index(), index) << kind;
    EXPECT_GT(verdict.problems_size(), 0) << kind;
  };
  auto expect_repaired = [&](const char* kind) {
    shop::v1::VerifyLogResponse verdict = Verify();
    EXPECT_TRUE(verdict.ok()) << kind << ": "
                              << (verdict.problems_size() ? verdict.problems(0) : "");
  };

  // Edit one byte of record 11 (leaf 10).
  exec(
      {"UPDATE audit_records SET record = overlay(record placing '\\x00'::bytea from 12 for 1) "
       "WHERE sequence = 11"});
  expect_detected(10, "edit");
  exec(
      {"UPDATE audit_records a SET record = o.record FROM original o "
       "WHERE a.sequence = o.sequence AND a.sequence = 11"});
  expect_repaired("edit");

  // Delete record 8 (leaf 7).
  exec({"DELETE FROM audit_records WHERE sequence = 8"});
  expect_detected(7, "delete");
  exec({"INSERT INTO audit_records SELECT * FROM original WHERE sequence = 8"});
  expect_repaired("delete");

  // Reorder: swap records 20 and 25 (leaf 19 is the first out of place).
  const std::vector<std::string> swap = {
      "UPDATE audit_records SET sequence = sequence + 1000000000000 WHERE sequence IN (20, 25)",
      "UPDATE audit_records SET sequence = CASE sequence WHEN 1000000000020 THEN 25 ELSE 20 END "
      "WHERE sequence > 1000000000000"};
  exec(swap);
  expect_detected(19, "reorder");
  exec(swap);
  expect_repaired("reorder");

  // Insert a forged record at leaf 14, renumbering everything after it.
  exec({"UPDATE audit_records SET sequence = sequence + 1000000000001 WHERE sequence >= 15",
        "UPDATE audit_records SET sequence = sequence - 1000000000000 "
        "WHERE sequence > 1000000000000",
        "INSERT INTO audit_records SELECT 15, 'forged-' || event_id, kind, service, name, "
        "trace_id, order_id, customer_id, caller, status_code, event_time, received_at, record, "
        "leaf_hash FROM original WHERE sequence = 14"});
  expect_detected(14, "insert");
  exec({"DELETE FROM audit_records WHERE sequence = 15",
        "UPDATE audit_records SET sequence = sequence + 999999999999 WHERE sequence >= 16",
        "UPDATE audit_records SET sequence = sequence - 1000000000000 "
        "WHERE sequence > 1000000000000"});
  expect_repaired("insert");
}

// Last: nothing was dropped by any exporter during all of the above.
TEST_F(AuditTrailTest, ZzNoExporterDroppedAnEvent) {
  for (const char* service : {"ecp", "ops", "pg-adapter", "ims"}) {
    mesh_->Stop(service, SIGTERM);
    std::string log = mesh_->process(service)->Log();
    size_t at = log.rfind("audit exporter stopped");
    ASSERT_NE(at, std::string::npos) << service;
    std::string line = log.substr(at, log.find('\n', at) - at);
    EXPECT_NE(line.find("\"dropped\":0"), std::string::npos) << service << ": " << line;
    EXPECT_NE(line.find("\"spool_pending\":0"), std::string::npos) << service << ": " << line;
  }
}

}  // namespace
}  // namespace shop::testing
