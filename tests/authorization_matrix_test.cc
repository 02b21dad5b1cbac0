// The authorization matrix: every method of every service of the mesh, called
// as every identity of the mesh, is allowed or denied exactly as the table in
// docs/authorization.md says. The table is read from the doc and the methods
// from the protobuf descriptors linked into this binary, so a method added to
// a proto without a row fails, and so does a row for a method that is gone.
//
// Every call carries an empty request (zero bytes: every field unset), and
// none can change anything. A denied call is refused by SHOP_RPC_ENTER, the
// first line of every handler. Every allowed handler (as read in each
// service's *_grpc.cc and its domain code) refuses an empty request or only
// reads:
// - ecp: without a token or x-shop-customer-id every CustomerService and
//   FulfilmentService method except BrowseCatalog is UNAUTHENTICATED (no end
//   user) before anything else; BrowseCatalog reads the catalog.
// - ops, pg-adapter: every method is INVALID_ARGUMENT (no order, customer,
//   payment id, idempotency key or currency) before any store or gateway call.
// - ims: Reserve, Commit, Release, Restock and GetStock are INVALID_ARGUMENT;
//   CheckAvailability and ListProducts only read.
// - logging: GetTrace and ExportTrace are INVALID_ARGUMENT; Query, Tail,
//   GetTreeHead, the two proofs and VerifyLog only read. Ingest is sent no
//   message at all (the stream is closed at once): it stores nothing and
//   answers OK.
// So no method needed a non-empty request.
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "shop/ops/v1/ops.grpc.pb.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "shop/v1/ims.grpc.pb.h"
#include "shop/v1/payments.grpc.pb.h"
#include "tests/harness.h"

namespace shop::testing {
namespace {

namespace pb = google::protobuf;

constexpr char kDocPath[] = "docs/authorization.md";

// Every identity of the mesh: scripts/dev-pki issues a certificate for each
// (spiffe://shop.local/ns/shop/sa/<name>), and the harness calls with it.
constexpr const char* kIdentities[] = {"ecp",    "ops",     "ims", "pg-adapter", "logging",
                                       "bridge", "shopctl", "sre", "staff"};

// Each service of the mesh and the process that serves it.
struct Served {
  const char* service;
  const char* server;
};
constexpr Served kServices[] = {
    {shop::v1::CustomerService::service_full_name(), "ecp"},
    {shop::v1::FulfilmentService::service_full_name(), "ecp"},
    {shop::ops::v1::OrderProcessingService::service_full_name(), "ops"},
    {shop::v1::InventoryService::service_full_name(), "ims"},
    {shop::v1::PaymentGatewayService::service_full_name(), "pg-adapter"},
    {shop::v1::AuditLogService::service_full_name(), "logging"},
};

// What SHOP_RPC_ENTER (core/grpc/call_context.h) answers when the server
// interceptor (core/grpc/interceptors.cc) found that the policy does not allow
// the caller. A handler's own PERMISSION_DENIED (ECP's STAFF_ONLY, the audit
// log's AUDIT_WRITER_MISMATCH) has another message and counts as allowed: the
// handler ran.
constexpr char kPolicyDenial[] = "caller is not allowed to call this method";

// Long enough for a loaded 2-core machine; an allowed stream that sends
// nothing (Tail) ends with DEADLINE_EXCEEDED, which counts as allowed.
constexpr std::chrono::seconds kDeadline(5);

// Fewer rows than this and the table cannot be the mesh's (37 methods today).
constexpr size_t kMinRows = 30;

struct Method {
  std::string path;    // "/shop.v1.CustomerService/PlaceOrder"
  std::string server;  // "ecp"
  bool client_streaming = false;
  bool server_streaming = false;
};

// The methods of kServices, from the descriptors of the generated code. Adds
// to `problems` a service that is not linked in, and one of the same proto
// files that kServices does not name a server for.
std::vector<Method> MeshMethods(std::vector<std::string>& problems) {
  // One message of each proto file: using it links the file's generated code,
  // which registers the file (with its services) in the generated pool.
  const pb::FileDescriptor* files[] = {
      shop::v1::PlaceOrderRequest::descriptor()->file(),
      shop::ops::v1::PlaceOrderRequest::descriptor()->file(),
      shop::v1::ReserveRequest::descriptor()->file(),
      shop::v1::AuthorizeRequest::descriptor()->file(),
      shop::v1::IngestRequest::descriptor()->file(),
  };
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  std::vector<Method> methods;
  for (const Served& served : kServices) {
    const pb::ServiceDescriptor* service = pool->FindServiceByName(served.service);
    if (service == nullptr) {
      problems.push_back(absl::StrCat("service ", served.service, " is not in the generated pool"));
      continue;
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* method = service->method(i);
      methods.push_back({absl::StrCat("/", service->full_name(), "/", method->name()),
                         served.server, method->client_streaming(), method->server_streaming()});
    }
  }
  for (const pb::FileDescriptor* file : files) {
    for (int i = 0; i < file->service_count(); ++i) {
      const std::string& name = file->service(i)->full_name();
      if (std::none_of(std::begin(kServices), std::end(kServices),
                       [&](const Served& served) { return name == served.service; })) {
        problems.push_back(absl::StrCat("service ", name, " of ", file->name(),
                                        " has no server in kServices of this test"));
      }
    }
  }
  return methods;
}

// "| a | `b` |" -> {"a", "`b`"}.
std::vector<std::string> Cells(absl::string_view line) {
  absl::string_view body = absl::StripAsciiWhitespace(line);
  absl::ConsumePrefix(&body, "|");
  absl::ConsumeSuffix(&body, "|");
  std::vector<std::string> cells;
  for (absl::string_view cell : absl::StrSplit(body, '|')) {
    cells.emplace_back(absl::StripAsciiWhitespace(cell));
  }
  return cells;
}

bool IsTableLine(absl::string_view line) {
  return absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "|");
}

// The table of docs/authorization.md: the one whose header row starts with
// "| Method |", then one column per identity.
struct DocTable {
  std::vector<std::string> identities;  // the columns after "Method", in order
  // method path -> identity -> the doc says allow
  std::map<std::string, std::map<std::string, bool>> allowed;
  std::vector<std::string> problems;
};

DocTable ParseTable(const std::string& markdown) {
  DocTable table;
  const std::vector<absl::string_view> lines = absl::StrSplit(markdown, '\n');
  auto where = [](size_t index) { return absl::StrCat(kDocPath, ":", index + 1, ": "); };
  size_t i = 0;
  while (i < lines.size() &&
         !(IsTableLine(lines[i]) && absl::EqualsIgnoreCase(Cells(lines[i])[0], "Method"))) {
    ++i;
  }
  if (i == lines.size()) {
    table.problems.push_back(absl::StrCat(kDocPath, ": no table with the header row \"| Method | ",
                                          kIdentities[0], " | ... |\""));
    return table;
  }
  const std::vector<std::string> header = Cells(lines[i]);
  table.identities.assign(header.begin() + 1, header.end());
  ++i;
  const std::vector<std::string> rule =
      i < lines.size() ? Cells(lines[i]) : std::vector<std::string>();
  if (i == lines.size() || !IsTableLine(lines[i]) ||
      !std::all_of(rule.begin(), rule.end(), [](const std::string& cell) {
        return !cell.empty() && cell.find_first_not_of("-: ") == std::string::npos;
      })) {
    table.problems.push_back(absl::StrCat(where(i), "the header row is not followed by |---|"));
    return table;
  }
  for (++i; i < lines.size() && IsTableLine(lines[i]); ++i) {
    const std::vector<std::string> cells = Cells(lines[i]);
    const std::string method(
        absl::StripAsciiWhitespace(absl::StripSuffix(absl::StripPrefix(cells[0], "`"), "`")));
    if (cells.size() != header.size()) {
      table.problems.push_back(absl::StrCat(where(i), method, " has ", cells.size(),
                                            " cells; the header has ", header.size()));
      continue;
    }
    if (table.allowed.count(method) > 0) {
      table.problems.push_back(absl::StrCat(where(i), "a second row for ", method));
      continue;
    }
    std::map<std::string, bool>& row = table.allowed[method];
    for (size_t c = 1; c < cells.size(); ++c) {
      const std::string value = absl::AsciiStrToLower(cells[c]);
      if (value != "allow" && value != "deny") {
        table.problems.push_back(absl::StrCat(where(i), method, " as ", header[c], ": \"", cells[c],
                                              "\" is neither allow nor deny"));
      }
      row[header[c]] = value == "allow";
    }
  }
  return table;
}

DocTable ReadDocTable() {
  const std::string path = absl::StrCat(SourceDir(), "/", kDocPath);
  const std::string markdown = ReadFile(path);
  if (markdown.empty()) {
    DocTable table;
    table.problems.push_back(absl::StrCat("cannot read ", path));
    return table;
  }
  return ParseTable(markdown);
}

// What keeps the table from being compared cell by cell: a method without a
// row, a row without a method, an identity without a column (or a column of
// no identity), too few rows.
void AddCoverageProblems(const DocTable& table, const std::vector<Method>& methods,
                         std::vector<std::string>& problems) {
  problems.insert(problems.end(), table.problems.begin(), table.problems.end());
  const std::set<std::string> columns(table.identities.begin(), table.identities.end());
  for (const char* identity : kIdentities) {
    if (columns.count(identity) == 0) {
      problems.push_back(absl::StrCat(kDocPath, " has no column for the identity ", identity));
    }
  }
  for (const std::string& column : table.identities) {
    if (std::none_of(std::begin(kIdentities), std::end(kIdentities),
                     [&](const char* identity) { return column == identity; })) {
      problems.push_back(absl::StrCat(kDocPath, " has a column \"", column,
                                      "\", which is not an identity of the mesh (",
                                      absl::StrJoin(kIdentities, ", "), ")"));
    }
  }
  std::set<std::string> paths;
  for (const Method& method : methods) {
    paths.insert(method.path);
    if (table.allowed.count(method.path) == 0) {
      problems.push_back(absl::StrCat(kDocPath, " has no row for ", method.path,
                                      " (a method of the protos, served by ", method.server, ")"));
    }
  }
  for (const auto& [path, row] : table.allowed) {
    if (paths.count(path) == 0) {
      problems.push_back(absl::StrCat(kDocPath, " has a row for ", path,
                                      ", which is not a method of the mesh's protos"));
    }
  }
  if (table.allowed.size() < kMinRows || methods.size() < kMinRows) {
    problems.push_back(absl::StrCat("only ", table.allowed.size(), " rows in ", kDocPath, " and ",
                                    methods.size(), " methods in the protos; expected at least ",
                                    kMinRows, " of each"));
  }
}

std::string List(const std::vector<std::string>& lines) {
  return absl::StrCat("\n  ", absl::StrJoin(lines, "\n  "));
}

struct Outcome {
  grpc::Status status;
  bool answered = false;  // the server sent a response message
};

// Waits for the one operation in flight on `cq`; whether it succeeded.
bool Await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

// A message of zero bytes: every protobuf request parses it, all fields unset.
grpc::ByteBuffer EmptyMessage() {
  grpc::Slice nothing;
  return grpc::ByteBuffer(&nothing, 1);
}

// One call of `method` with an empty request, through a generic stub.
Outcome Call(const std::shared_ptr<grpc::Channel>& channel, const Method& method) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  grpc::CompletionQueue cq;
  const grpc::ByteBuffer request = EmptyMessage();
  grpc::ByteBuffer response;
  Outcome outcome;
  // One operation at a time is in flight, so one tag does.
  void* const tag = &outcome;
  if (!method.client_streaming && !method.server_streaming) {
    auto call = stub.PrepareUnaryCall(&ctx, method.path, request, &cq);
    call->StartCall();
    call->Finish(&response, &outcome.status, tag);
    Await(cq);
    outcome.answered = outcome.status.ok();
  } else {
    auto call = stub.PrepareCall(&ctx, method.path, &cq);
    call->StartCall(tag);
    bool ok = Await(cq);
    // A client stream (Ingest) is sent no message; the others their request.
    if (ok && !method.client_streaming) {
      call->Write(request, tag);
      ok = Await(cq);
    }
    if (ok) {
      call->WritesDone(tag);
      ok = Await(cq);
    }
    if (ok) {
      call->Read(&response, tag);
      outcome.answered = Await(cq);
      // A message means the handler runs; a live stream (Tail) would go on
      // until the deadline.
      if (outcome.answered && method.server_streaming) ctx.TryCancel();
    }
    call->Finish(&outcome.status, tag);
    Await(cq);
  }
  cq.Shutdown();
  void* drained = nullptr;
  bool ok = false;
  while (cq.Next(&drained, &ok)) {
  }
  return outcome;
}

bool PolicyDenied(const Outcome& outcome) {
  return !outcome.answered && outcome.status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
         outcome.status.error_message() == kPolicyDenial;
}

// No handler was reached (the connection failed, or the server does not
// implement the method), so the call says nothing about the policy.
bool Unreached(const Outcome& outcome) {
  return !outcome.answered && (outcome.status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                               outcome.status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
}

std::string Describe(const Outcome& outcome) {
  std::string text =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(outcome.status.error_code()));
  std::string message = outcome.status.error_message();
  if (message.size() > 200) message = absl::StrCat(message.substr(0, 200), "...");
  if (!message.empty()) absl::StrAppend(&text, " (", message, ")");
  if (outcome.answered && !outcome.status.ok()) absl::StrAppend(&text, " after a response");
  return text;
}

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&ctx, {}, &response);
}

// The doc against the protos alone, without a mesh: quick to run after
// adding a method.
TEST(AuthorizationDocTest, TheTableHasARowPerMethodAndAColumnPerIdentity) {
  std::vector<std::string> problems;
  const std::vector<Method> methods = MeshMethods(problems);
  AddCoverageProblems(ReadDocTable(), methods, problems);
  EXPECT_TRUE(problems.empty()) << List(problems);
}

class AuthorizationMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mesh_.ok()) << mesh_.error(); }

  Mesh& mesh_ = SharedMesh();
};

TEST_F(AuthorizationMatrixTest, EveryMethodAsEveryIdentityIsAllowedOrDeniedAsTheDocSays) {
  std::vector<std::string> problems;
  const std::vector<Method> methods = MeshMethods(problems);
  const DocTable table = ReadDocTable();
  AddCoverageProblems(table, methods, problems);
  ASSERT_TRUE(problems.empty()) << List(problems);

  // One channel per server and identity, reused. Each must pass a health
  // check (gRPC's own service, open to every mesh identity) first: then the
  // mTLS handshake works both ways, and an answer other than the policy's
  // denial means that the handler ran.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<grpc::Channel>> channels;
  for (const Served& served : kServices) {
    for (const char* identity : kIdentities) {
      const auto key = std::make_pair(std::string(served.server), std::string(identity));
      if (channels.count(key) > 0) continue;
      std::shared_ptr<grpc::Channel> channel = mesh_.GenericChannel(served.server, identity);
      if (channel == nullptr) {
        problems.push_back(absl::StrCat("no channel to ", served.server, " as ", identity));
        continue;
      }
      if (grpc::Status health = CheckHealth(channel); !health.ok()) {
        problems.push_back(absl::StrCat(served.server, " as ", identity, ": the health check said ",
                                        Describe({health, false})));
        continue;
      }
      channels[key] = std::move(channel);
    }
  }
  ASSERT_TRUE(problems.empty()) << List(problems);

  std::vector<std::string> mismatches;
  int calls = 0;
  for (const Method& method : methods) {
    for (const char* identity : kIdentities) {
      const bool doc_allows = table.allowed.at(method.path).at(identity);
      const Outcome outcome = Call(channels.at({method.server, identity}), method);
      ++calls;
      const std::string cell =
          absl::StrCat(method.path, " as ", identity, ": docs say ", doc_allows ? "allow" : "deny");
      if (Unreached(outcome)) {
        mismatches.push_back(absl::StrCat(
            cell, ", but the call tells nothing (no handler answered): ", Describe(outcome)));
      } else if (PolicyDenied(outcome) == doc_allows) {
        mismatches.push_back(absl::StrCat(cell, ", server said ", Describe(outcome)));
      }
    }
  }
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " of " << calls << " calls disagree with "
                                  << kDocPath << ":" << List(mismatches);
}

}  // namespace
}  // namespace shop::testing
