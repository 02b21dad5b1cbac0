// The gRPC side of the bridge: where each service is served
// (--backend=Service=host:port, --default_backend) and generic calls by
// method name with grpc::GenericStub, unary or server-streaming, carrying
// serialized messages (the transcoder owns the types).
#ifndef SHOP_SERVICES_BRIDGE_BACKENDS_H_
#define SHOP_SERVICES_BRIDGE_BACKENDS_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/bridge/forwarding.h"

namespace shop::bridge {

struct BackendSpec {
  std::map<std::string, std::string> by_service;  // "shop.v1.CustomerService" → "localhost:7001"
  std::string default_address;
};

// Entries "Service=host:port" (each may also be a comma-separated list).
// INVALID_ARGUMENT naming a malformed or duplicated entry.
absl::StatusOr<BackendSpec> ParseBackendSpec(const std::vector<std::string>& entries,
                                             const std::string& default_address);

using ChannelFactory =
    std::function<absl::StatusOr<std::shared_ptr<grpc::Channel>>(const std::string& address)>;

// One channel per distinct address, looked up by service.
class Backends {
 public:
  // FAILED_PRECONDITION naming the services of `services` that have no
  // address (and no default).
  static absl::StatusOr<std::unique_ptr<Backends>> Create(const BackendSpec& spec,
                                                          const std::vector<std::string>& services,
                                                          const ChannelFactory& factory);
  // Null for a service that was not in `services`.
  std::shared_ptr<grpc::Channel> ChannelFor(const std::string& service) const;

 private:
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// The running backend calls, so that a shutdown can cancel what outlives
// its drain time.
class ActiveCalls {
 public:
  void Add(grpc::ClientContext* ctx);
  void Remove(grpc::ClientContext* ctx);
  int count() const;
  // Waits up to `timeout` for the count to reach zero; true if it did.
  bool WaitIdle(absl::Duration timeout) const;
  void CancelAll();

 private:
  mutable absl::Mutex mu_;
  std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
};

// One call to a backend by method name. Blocking; used by one thread.
class BackendCall {
 public:
  BackendCall(std::shared_ptr<grpc::Channel> channel, std::string method,
              const OutgoingCall& outgoing, ActiveCalls* active);
  ~BackendCall();
  BackendCall(const BackendCall&) = delete;
  BackendCall& operator=(const BackendCall&) = delete;

  // Unary: sends `request`, waits for the answer.
  grpc::Status Unary(const std::string& request, std::string* response);

  // Server streaming: StartStream, then Read until false, then Finish.
  void StartStream(const std::string& request);
  bool Read(std::string* message);
  grpc::Status Finish();
  void Cancel() { ctx_.TryCancel(); }

  // After Unary, a successful Read or Finish (empty before).
  HeaderList InitialMetadata() const;
  // Valid after Unary or Finish.
  HeaderList TrailingMetadata() const;

 private:
  bool Wait();

  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  grpc::GenericStub stub_;
  std::string method_;
  ActiveCalls* active_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  bool stream_ok_ = false;
  bool finished_ = false;
  bool metadata_ready_ = false;  // GetServerInitialMetadata asserts before
  grpc::Status status_;
};

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_BACKENDS_H_
