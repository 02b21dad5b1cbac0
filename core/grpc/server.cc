#include "core/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/grpc/authz.h"
#include "core/grpc/health.h"
#include "core/grpc/interceptors.h"
#include "core/log.h"
#include "core/span.h"

namespace shop {
namespace {

absl::StatusOr<std::shared_ptr<AuthzPolicyHolder>> LoadPolicy(const ServerConfig& config) {
  if (!config.authz_policy_file.empty())
    return AuthzPolicyHolder::FromFile(config.authz_policy_file);
  if (!config.authz_policy.empty()) return AuthzPolicyHolder::FromText(config.authz_policy);
  return absl::InvalidArgumentError("no authorization policy: refusing to serve everyone");
}

}  // namespace

absl::Status WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const ServerConfig& config, const std::vector<grpc::Service*>& services) {
  auto credentials = MakeServerCredentials(config.tls);
  if (!credentials.ok()) return credentials.status();
  auto authz = LoadPolicy(config);
  if (!authz.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad authorization policy: ", authz.status().message()));
  }

  // Our own health service, under the policy (see core/grpc/health.h).
  grpc::EnableDefaultHealthCheckService(false);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // A second process on the same port is a mistake to report at start-up, not
  // a peer to share connections with (gRPC sets SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(config.listen, *credentials, &port);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(MakeServerInterceptorFactory(config.service, config.audit, *authz));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  for (grpc::Service* service : services) builder.RegisterService(service);

  std::unique_ptr<ServiceHost> host(new ServiceHost);
  host->health_ = std::make_unique<HealthService>();
  builder.RegisterService(host->health_.get());
  host->service_ = config.service;
  host->server_ = builder.BuildAndStart();
  if (host->server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen, " (address in use or invalid?)"));
  }
  host->port_ = port;
  host->policy_ = *authz;
  host->health_->SetAll(true);
  if (!config.port_file.empty()) {
    if (absl::Status s = WritePortFile(config.port_file, port); !s.ok()) return s;
  }
  log::Info("serving", {{"listen", config.listen}, {"port", port}});
  return host;
}

ServiceHost::~ServiceHost() { Shutdown(std::chrono::seconds(0)); }

void ServiceHost::SetServiceServing(const std::string& service, bool serving) {
  if (server_ != nullptr && !shut_down_) {
    health_->Set(service, serving);
  }
}

void ServiceHost::Shutdown(std::chrono::seconds drain) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  health_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + drain);
  server_->Wait();
  log::Info("server stopped");
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal_number = 0;
  sigwait(&set, &signal_number);
  return signal_number;
}

void ServiceHost::RunUntilSignal(std::chrono::seconds drain) {
  const int signal_number = WaitForTerminationSignal();
  log::Info("draining", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  Shutdown(drain);
}

}  // namespace shop
