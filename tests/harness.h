// Integration-test harness: a private PostgreSQL cluster, a fresh dev PKI,
// the payment-gateway stand-in and every service as real processes on
// loopback ports that were free when chosen (see FreePort); each service
// reports it listens through --port_file.
#ifndef SHOP_TESTS_HARNESS_H_
#define SHOP_TESTS_HARNESS_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/grpc/tls.h"

namespace shop::testing {

// A child process with its output in a log file. Its environment is this
// process's without SHOP_* variables, plus `env` ("NAME=value" each, replacing
// an inherited variable of the same name): secrets go there, never on the
// command line, which every local user can read in /proc/<pid>/cmdline.
class Process {
 public:
  Process(std::string name, std::vector<std::string> argv, std::string log_file,
          std::vector<std::string> env = {});
  ~Process();
  pid_t pid() const { return pid_; }
  // Exit status once the process ended within `timeout` (as from waitpid).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  void Signal(int signal_number);
  // SIGTERM, then SIGKILL after `grace`. Returns the wait status.
  std::optional<int> Stop(std::chrono::milliseconds grace = std::chrono::seconds(15));
  std::string Log() const;

 private:
  std::string name_;
  std::string log_file_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The whole file, or "" when unreadable.
std::string ReadFile(const std::string& path);

// Runs `command` with /bin/sh; fails the test (returns false) on non-zero exit.
bool RunCommand(const std::string& command);
int FreePort();
std::string SourceDir();
std::string BuildDir();

// Polls `ready` until true or `timeout`; returns the last value. (Readiness
// polling with a deadline, never a fixed sleep.)
bool WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// The password file of the PostgreSQL cluster in `data_dir`
// (scripts/postgres-local passfile): every role's password, mode 0600.
std::string PostgresPassFile(const std::string& data_dir);
// Makes the passwords in `cluster_passfile` (again, after roles were added)
// available to this test process's own connections: on first use, PGPASSFILE
// is set to a file of this process that holds the entries of every cluster
// it started (each entry names its cluster's port), removed at exit. The
// processes under test get their own cluster's file instead.
void AddToProcessPassFile(const std::string& cluster_passfile);

class Mesh {
 public:
  Mesh();  // starts everything; check ok() / error()
  ~Mesh();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  const std::string& root() const { return root_; }
  const std::string& pki() const { return pki_; }
  std::string address(const std::string& service) const;
  std::string db_url(const std::string& database) const;
  int postgres_port() const { return postgres_port_; }
  // The cluster's password file (PGPASSFILE of every process of the mesh).
  const std::string& passfile() const { return passfile_; }
  const std::string& gateway_url() const { return gateway_url_; }
  // The JSON bridge (services/bridge): http://127.0.0.1:<port>.
  const std::string& bridge_url() const { return bridge_url_; }
  const std::string& gateway_api_key() const { return api_key_; }
  int webhook_port() const { return webhook_port_; }
  const std::string& webhook_secret() const { return webhook_secret_; }
  // The pid of every process the mesh started, by service.
  std::map<std::string, pid_t> pids() const;
  TlsFiles Identity(const std::string& name) const;

  // An mTLS channel to `service` as workload `identity` (e.g. "shopctl").
  std::shared_ptr<grpc::Channel> Channel(const std::string& service,
                                         const std::string& identity = "shopctl") const;
  // The same for calls through grpc::GenericStub: the channel's tracing
  // interceptor then does not read the (raw) messages as protobuf.
  std::shared_ptr<grpc::Channel> GenericChannel(const std::string& service,
                                                const std::string& identity) const;
  // The service's process (to stop or kill it in a test).
  Process* process(const std::string& service) { return processes_.at(service).get(); }
  // Stops `service` with `signal_number` (SIGKILL: a crash), then starts it
  // again on the same port and waits until it is healthy.
  bool Restart(const std::string& service, int signal_number);
  // Stops it (no restart) / starts it again after Stop.
  void Stop(const std::string& service, int signal_number);
  bool StartAgain(const std::string& service);
  // Issues every workload a new certificate and key from the mesh CA and
  // swaps them in atomically (tls/live -> tls/gen-N); the services re-read
  // their files every second. live_tls_dir() holds the files in force.
  bool RotateCertificates();
  std::string live_tls_dir() const { return root_ + "/tls/live"; }
  // Starts one more process of `binary` with the standard flags of `service`
  // plus `extra`, without waiting for it.
  std::unique_ptr<Process> Launch(const std::string& service, const std::vector<std::string>& extra,
                                  const std::string& log_name);

 private:
  bool Start(const std::string& service, const std::string& binary, std::vector<std::string> args);
  bool Spawn(const std::string& service);
  std::vector<std::string> CommonFlags(const std::string& service) const;
  // The child environment of `service`: the password file and its secrets.
  std::vector<std::string> Environment(const std::string& service) const;

  std::string root_;
  std::string pki_;
  int tls_generation_ = 0;
  std::string error_;
  int postgres_port_ = 0;
  std::string passfile_;
  // Random per mesh, so a test can look for them in other processes.
  std::string api_key_;
  std::string webhook_secret_;
  int webhook_port_ = 0;
  std::string gateway_url_;
  std::string bridge_url_;
  std::map<std::string, int> ports_;
  std::map<std::string, std::vector<std::string>> argv_;
  std::map<std::string, std::vector<std::string>> env_;
  std::map<std::string, std::unique_ptr<Process>> processes_;
  std::vector<std::string> start_order_;
};

// One mesh per test binary, started on first use, stopped at exit.
Mesh& SharedMesh();

// A fixture whose suite has a mesh of its own, started before its first test
// and stopped after its last: unlike SharedMesh(), for suites that tamper with
// the mesh or count everything it logged. A subclass's SetUp calls
// SuiteMeshTest::SetUp() first and returns if it failed (no mesh).
class SuiteMeshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mesh_ = new Mesh(); }
  static void TearDownTestSuite() {
    delete mesh_;
    mesh_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(mesh_->ok()) << mesh_->error(); }

  static inline Mesh* mesh_ = nullptr;
};

}  // namespace shop::testing

#endif  // SHOP_TESTS_HARNESS_H_
