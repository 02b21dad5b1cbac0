#include "tests/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace shop::testing {
std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string SourceDir() { return SHOP_SOURCE_DIR; }
std::string BuildDir() { return SHOP_BUILD_DIR; }

bool WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Process::Process(std::string name, std::vector<std::string> argv, std::string log_file,
                 std::vector<std::string> env)
    : name_(std::move(name)), log_file_(std::move(log_file)) {
  // Every binary reads SHOP_* variables as flags: a developer's sourced
  // .run/mesh.env must not leak into the processes under test. Built before
  // fork, so the child only calls async-signal-safe functions.
  std::vector<char*> child_env;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* equals = std::strchr(*e, '=');
    const size_t name_length = equals == nullptr ? std::strlen(*e) : equals - *e;
    const bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& v) {
      return v.size() > name_length && v[name_length] == '=' &&
             v.compare(0, name_length, *e, name_length) == 0;
    });
    if (std::strncmp(*e, "SHOP_", 5) != 0 && !replaced) child_env.push_back(*e);
  }
  for (auto& v : env) child_env.push_back(v.data());
  child_env.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execve(args[0], args.data(), child_env.data());
    _exit(127);
  }
}

Process::~Process() { Stop(std::chrono::seconds(5)); }

std::optional<int> Process::WaitExit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  WaitFor(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
        return status_.has_value();
      },
      timeout);
  return status_;
}

void Process::Signal(int signal_number) {
  if (pid_ > 0 && !status_) kill(pid_, signal_number);
}

std::optional<int> Process::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || status_) return status_;
  Signal(SIGTERM);
  if (!WaitExit(grace)) {
    Signal(SIGKILL);
    WaitExit(std::chrono::seconds(5));
  }
  return status_;
}

std::string Process::Log() const { return ReadFile(log_file_); }

bool RunCommand(const std::string& command) { return std::system(command.c_str()) == 0; }

std::string PostgresPassFile(const std::string& data_dir) {
  const std::string command =
      absl::StrCat(SourceDir(), "/scripts/postgres-local passfile '", data_dir, "'");
  std::string path;
  if (FILE* out = popen(command.c_str(), "r")) {
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, out) != nullptr) path += buffer;
    pclose(out);
  }
  while (!path.empty() && path.back() == '\n') path.pop_back();
  return path;
}

namespace {

struct ProcessPassFile {
  std::mutex mu;
  std::string dir;                    // mkdtemp, 0700
  std::vector<std::string> clusters;  // their files, concatenated into dir/pgpass
};

ProcessPassFile& TheProcessPassFile() {
  static auto* file = new ProcessPassFile();  // never destroyed: used by the atexit hook
  return *file;
}

}  // namespace

void AddToProcessPassFile(const std::string& cluster_passfile) {
  ProcessPassFile& f = TheProcessPassFile();
  std::lock_guard<std::mutex> lock(f.mu);
  if (f.dir.empty()) {
    char tmpl[] = "/tmp/shopmesh-pgpass-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "cannot make a directory for the password file";
      return;
    }
    f.dir = tmpl;
    // Set once, before the first connection of this process needs it;
    // PGPASSWORD (a developer's) would take precedence over the file.
    setenv("PGPASSFILE", (f.dir + "/pgpass").c_str(), 1);
    unsetenv("PGPASSWORD");
    std::atexit([] {
      const std::string dir = TheProcessPassFile().dir;
      std::remove((dir + "/pgpass").c_str());
      std::remove((dir + "/pgpass.new").c_str());
      rmdir(dir.c_str());
    });
  }
  if (std::find(f.clusters.begin(), f.clusters.end(), cluster_passfile) == f.clusters.end()) {
    f.clusters.push_back(cluster_passfile);
  }
  std::string all;
  for (const std::string& cluster : f.clusters) all += ReadFile(cluster);
  // libpq ignores a password file that others may read: 0600 from the start,
  // and replaced in one step (a connection may be reading the old one).
  const std::string next = f.dir + "/pgpass.new";
  int fd = open(next.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, all.data(), all.size()) != static_cast<ssize_t>(all.size()) ||
      close(fd) != 0 || rename(next.c_str(), (f.dir + "/pgpass").c_str()) != 0) {
    ADD_FAILURE() << "cannot write " << next << ": " << std::strerror(errno);
  }
}

namespace {

bool CanListenOn(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;  // as the servers do: a connection in TIME_WAIT does not block them
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

// The lowest port the kernel gives to the local end of outgoing connections.
int EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  range >> low;
  return low;
}

}  // namespace

// A port that was free when asked, below the kernel's ephemeral range: a port
// the kernel picked for bind(0) lies inside that range, where any outgoing
// connection (a service to PostgreSQL, say) may take it before the service
// that was meant to listen on it binds ("Address already in use").
int FreePort() {
  static std::mt19937 random(std::random_device{}());
  static std::set<int> given;  // never the same port twice in one test binary
  const int high = std::min(EphemeralLow(), 32768);
  const int low = 10000;
  for (int attempt = 0; high - low > 1000 && attempt < 1000; ++attempt) {
    const int port = std::uniform_int_distribution<int>(low, high - 1)(random);
    if (given.count(port) == 0 && CanListenOn(port)) {
      given.insert(port);
      return port;
    }
  }
  // No room below the ephemeral range (an unusual ip_local_port_range): let
  // the kernel choose, with the race described above.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("cannot bind any loopback port for the test mesh");
    std::abort();
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

Mesh::Mesh() {
  std::random_device random;
  api_key_ = absl::StrCat("sk_test_harness_", absl::Hex(random(), absl::kZeroPad8),
                          absl::Hex(random(), absl::kZeroPad8));
  webhook_secret_ = absl::StrCat("whsec_harness_", absl::Hex(random(), absl::kZeroPad8),
                                 absl::Hex(random(), absl::kZeroPad8));
  char tmpl[] = "/tmp/shopmesh-test-XXXXXX";
  root_ = mkdtemp(tmpl);
  chmod(root_.c_str(), 0755);  // the postgres user must reach its data dir
  pki_ = root_ + "/pki";
  RunCommand(absl::StrCat("mkdir -p ", root_, "/logs"));
  const std::string scripts = SourceDir() + "/scripts";
  if (!RunCommand(absl::StrCat(scripts, "/dev-pki ", pki_, " >/dev/null"))) {
    error_ = "dev-pki failed";
    return;
  }
  // The services read their TLS files through tls/live, a symlink to one
  // generation directory, swapped whole by RotateCertificates (as kubelet
  // swaps a Secret volume), so a key and its certificate change together.
  if (!RunCommand(absl::StrCat("mkdir -p ", root_, "/tls/gen-0 && cp ", pki_, "/*.crt ", pki_,
                               "/*.key ", root_, "/tls/gen-0/ && ln -s gen-0 ", root_,
                               "/tls/live"))) {
    error_ = "cannot lay out the TLS files";
    return;
  }
  postgres_port_ = FreePort();
  // Every port up front: services find each other (and a restarted one comes
  // back where its callers expect it).
  for (const char* service : {"fakepay", "logging", "ims", "pg-adapter", "ops", "ecp", "bridge"}) {
    ports_[service] = FreePort();
  }
  webhook_port_ = FreePort();
  // Password authentication; the roles' passwords end up in passfile_.
  passfile_ = PostgresPassFile(root_ + "/pg");
  const std::string with_passfile = absl::StrCat("PGPASSFILE='", passfile_, "' ", scripts);
  if (!RunCommand(absl::StrCat(scripts, "/postgres-local start ", root_, "/pg ", postgres_port_)) ||
      !RunCommand(absl::StrCat(with_passfile, "/postgres-local create-db ", postgres_port_,
                               " ops ims payments logging")) ||
      !RunCommand(absl::StrCat(with_passfile, "/postgres-local create-role ", postgres_port_,
                               " logging_writer"))) {
    error_ = "could not start PostgreSQL";
    return;
  }
  AddToProcessPassFile(passfile_);
  const std::string bin = BuildDir();
  if (!Start("fakepay", bin + "/tools/fakepay/fakepay",
             {"--cert=" + pki_ + "/fakepay.crt", "--key=" + pki_ + "/fakepay.key",
              "--state_file=" + root_ + "/fakepay.journal",
              absl::StrCat("--webhook_url=https://127.0.0.1:", webhook_port_, "/webhooks/gateway"),
              "--webhook_ca=" + pki_ + "/ca.crt"})) {
    return;
  }
  gateway_url_ = absl::StrCat("https://127.0.0.1:", ports_["fakepay"]);
  if (!Start("logging", bin + "/services/logging/logging", CommonFlags("logging"))) return;
  if (!Start("ims", bin + "/services/ims/ims", CommonFlags("ims"))) return;
  if (!Start("pg-adapter", bin + "/services/pg-adapter/pg-adapter", CommonFlags("pg-adapter")))
    return;
  if (!Start("ops", bin + "/services/ops/ops", CommonFlags("ops"))) return;
  if (!Start("ecp", bin + "/services/ecp/ecp", CommonFlags("ecp"))) return;
  if (!Start("bridge", bin + "/services/bridge/bridge", CommonFlags("bridge"))) return;
  bridge_url_ = absl::StrCat("http://127.0.0.1:", ports_["bridge"]);
}

Mesh::~Mesh() {
  for (auto it = start_order_.rbegin(); it != start_order_.rend(); ++it) {
    processes_[*it]->Stop();
  }
  RunCommand(absl::StrCat(SourceDir(), "/scripts/postgres-local stop ", root_, "/pg"));
  if (std::getenv("SHOP_KEEP_TEST_DIR") == nullptr) RunCommand("rm -rf " + root_);
}

std::string Mesh::address(const std::string& service) const {
  auto it = ports_.find(service);
  return it == ports_.end() ? "" : absl::StrCat("127.0.0.1:", it->second);
}

std::string Mesh::db_url(const std::string& database) const {
  return absl::StrCat("postgresql://", database, "@127.0.0.1:", postgres_port_, "/", database);
}

std::map<std::string, pid_t> Mesh::pids() const {
  std::map<std::string, pid_t> pids;
  for (const auto& [service, process] : processes_) pids[service] = process->pid();
  return pids;
}

TlsFiles Mesh::Identity(const std::string& name) const {
  return {pki_ + "/ca.crt", pki_ + "/" + name + ".crt", pki_ + "/" + name + ".key"};
}

bool Mesh::RotateCertificates() {
  ++tls_generation_;
  const std::string tls = root_ + "/tls";
  const std::string generation = absl::StrCat("gen-", tls_generation_);
  return RunCommand(absl::StrCat(SourceDir(), "/scripts/dev-pki --reissue ", pki_, " ", tls, "/",
                                 generation, " >/dev/null && ln -s ", generation, " ", tls,
                                 "/live.new && mv -T ", tls, "/live.new ", tls, "/live"));
}

std::vector<std::string> Mesh::CommonFlags(const std::string& service) const {
  const std::string live = root_ + "/tls/live";
  std::vector<std::string> flags = {
      "--tls_ca=" + live + "/ca.crt", "--tls_cert=" + live + "/" + service + ".crt",
      "--tls_key=" + live + "/" + service + ".key", "--tls_refresh_seconds=1"};
  if (service != "logging") {
    flags.push_back("--audit_addr=" + address("logging"));
    flags.push_back("--audit_spool=" + root_ + "/" + service + ".audit-spool");
  }
  if (service == "logging") {
    flags.push_back(absl::StrCat("--db_url=postgresql://logging_writer@127.0.0.1:", postgres_port_,
                                 "/logging"));
    flags.push_back("--db_admin_url=" + db_url("logging"));
    flags.push_back("--tree_head_key=" + pki_ + "/audit-log-signing.key");
    flags.push_back("--checkpoint_file=" + root_ + "/audit-log.checkpoint");
    flags.push_back("--tree_head_interval_ms=200");
  }
  if (service == "ims") flags.push_back("--db_url=" + db_url("ims"));
  if (service == "pg-adapter") {
    flags.push_back("--db_url=" + db_url("payments"));
    flags.push_back("--gateway_url=" + gateway_url_);
    flags.push_back("--gateway_ca=" + pki_ + "/external-ca.crt");
    flags.push_back("--breaker_cool_down_seconds=2");
    // Ten failed tries in a row open the circuit. At the default five, the
    // flaky-gateway test's 30% injected failures open it about once in ten
    // runs (60 tries; 0.3^5 per run of five), and every later order then fails
    // fast within the 2 s cool-down; at ten that is below one in 10^4. A dead
    // gateway still opens it on the fourth order (three tries each).
    flags.push_back("--breaker_failures=10");
    flags.push_back("--gateway_timeout_ms=1500");  // injected timeouts cost 1.5 s, not 5
    flags.push_back(absl::StrCat("--webhook_listen=127.0.0.1:", webhook_port_));
    flags.push_back("--ops_addr=" + address("ops"));
  }
  if (service == "ims") flags.push_back("--expiry_interval_seconds=1");
  if (service == "bridge") {
    flags.push_back("--default_backend=" + address("ecp"));
    flags.push_back("--cors_origins=https://shop.example");
  }
  if (service == "ops") {
    // Short leases: a killed saga is taken over within seconds.
    flags.push_back("--saga_lease_seconds=4");
    flags.push_back("--recovery_interval_seconds=1");
    flags.push_back("--db_url=" + db_url("ops"));
    flags.push_back("--ims_addr=" + address("ims"));
    flags.push_back("--payments_addr=" + address("pg-adapter"));
  }
  if (service == "ecp") {
    flags.push_back("--ops_addr=" + address("ops"));
    flags.push_back("--ims_addr=" + address("ims"));
    flags.push_back("--jwks_file=" + pki_ + "/jwks.json");
  }
  return flags;
}

std::vector<std::string> Mesh::Environment(const std::string& service) const {
  std::vector<std::string> env = {"PGPASSFILE=" + passfile_};
  if (service == "fakepay") {
    env.push_back("SHOP_FAKEPAY_API_KEY=" + api_key_);
    env.push_back("SHOP_FAKEPAY_WEBHOOK_SECRET=" + webhook_secret_);
  }
  if (service == "pg-adapter") {
    env.push_back("SHOP_GATEWAY_API_KEY=" + api_key_);
    env.push_back("SHOP_WEBHOOK_SECRET=" + webhook_secret_);
  }
  return env;
}

std::unique_ptr<Process> Mesh::Launch(const std::string& service,
                                      const std::vector<std::string>& extra,
                                      const std::string& log_name) {
  std::string binary = service == "fakepay"
                           ? BuildDir() + "/tools/fakepay/fakepay"
                           : absl::StrCat(BuildDir(), "/services/", service, "/", service);
  std::vector<std::string> argv = {binary};
  for (const auto& f : CommonFlags(service)) argv.push_back(f);
  for (const auto& f : extra) argv.push_back(f);
  return std::make_unique<Process>(log_name, argv, root_ + "/logs/" + log_name + ".log",
                                   Environment(service));
}

bool Mesh::Start(const std::string& service, const std::string& binary,
                 std::vector<std::string> args) {
  std::vector<std::string> argv = {binary, absl::StrCat("--listen=127.0.0.1:", ports_[service]),
                                   "--port_file=" + root_ + "/" + service + ".port"};
  for (auto& a : args) argv.push_back(std::move(a));
  argv_[service] = argv;
  env_[service] = Environment(service);
  start_order_.push_back(service);
  return Spawn(service);
}

bool Mesh::Spawn(const std::string& service) {
  const std::string port_file = root_ + "/" + service + ".port";
  std::remove(port_file.c_str());
  auto process = std::make_unique<Process>(service, argv_[service],
                                           root_ + "/logs/" + service + ".log", env_[service]);
  Process* p = process.get();
  processes_[service] = std::move(process);
  bool bound = WaitFor(
      [&] {
        return !ReadFile(port_file).empty() ||
               p->WaitExit(std::chrono::milliseconds(0)).has_value();
      },
      std::chrono::seconds(60));
  if (!bound || ReadFile(port_file).empty()) {
    error_ = absl::StrCat(service, " did not start; its log:\n", p->Log());
    return false;
  }
  if (service == "fakepay" || service == "bridge") return true;  // HTTP: bound is ready
  auto stub = grpc::health::v1::Health::NewStub(Channel(service));
  bool healthy = WaitFor(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        grpc::health::v1::HealthCheckResponse response;
        return stub->Check(&ctx, {}, &response).ok() &&
               response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      },
      std::chrono::seconds(30));
  if (!healthy) error_ = absl::StrCat(service, " is not healthy; its log:\n", p->Log());
  return healthy;
}

void Mesh::Stop(const std::string& service, int signal_number) {
  Process* p = processes_.at(service).get();
  p->Signal(signal_number);
  p->WaitExit(std::chrono::seconds(20));
}

bool Mesh::StartAgain(const std::string& service) { return Spawn(service); }

bool Mesh::Restart(const std::string& service, int signal_number) {
  Stop(service, signal_number);
  return Spawn(service);
}

std::shared_ptr<grpc::Channel> Mesh::Channel(const std::string& service,
                                             const std::string& identity) const {
  auto channel = MakeChannel(address(service), service, Identity(identity));
  return channel.ok() ? *channel : nullptr;
}

std::shared_ptr<grpc::Channel> Mesh::GenericChannel(const std::string& service,
                                                    const std::string& identity) const {
  ChannelOptions options;
  options.typed_messages = false;
  auto channel = MakeChannel(address(service), service, Identity(identity), options);
  return channel.ok() ? *channel : nullptr;
}

namespace {
Mesh* shared_mesh = nullptr;
}  // namespace

Mesh& SharedMesh() {
  if (shared_mesh == nullptr) shared_mesh = new Mesh();  // stopped by the environment below
  return *shared_mesh;
}

namespace {
class MeshEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete shared_mesh;
    shared_mesh = nullptr;
  }
};
[[maybe_unused]] auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new MeshEnvironment);
}  // namespace

}  // namespace shop::testing
