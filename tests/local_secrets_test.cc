// Local secrets (security review 2026-12, #11a and #12): the private
// PostgreSQL asks every role for its password (scram-sha-256, passwords in the
// cluster's password file), and no process of the mesh carries the gateway's
// API key or the webhook signing secret on its command line, which every local
// user can read in /proc/<pid>/cmdline.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/client.h"
#include "tests/harness.h"
#include "tests/postgres_fixture.h"

namespace shop::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

[[maybe_unused]] const bool kClusterRegistered = (PostgresCluster::Get(), true);

// Overrides PGPASSFILE (and ~/.pgpass) for one connection: no password at all.
constexpr char kNoPassFile[] = "/nonexistent/shopmesh/pgpass";

// "" when a session as `role` on `database` works, else libpq's message.
// `params` are extra connection parameters (a=b&c=d).
std::string ConnectError(int port, const std::string& role, const std::string& database,
                         const std::string& params) {
  const std::string url = absl::StrCat("postgresql://", role, "@127.0.0.1:", port, "/", database,
                                       "?connect_timeout=10", params.empty() ? "" : "&", params);
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction(connection).exec("SELECT 1");
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// Without a password the server refuses `role`, a wrong one too; with the
// cluster's password file (named, or through this process's PGPASSFILE) it
// lets it in.
void ExpectPasswordRequired(int port, const std::string& role, const std::string& database,
                            const std::string& passfile) {
  SCOPED_TRACE("as " + role + " on " + database);
  const std::string no_passfile = absl::StrCat("passfile=", kNoPassFile);
  EXPECT_THAT(
      ConnectError(port, role, database, no_passfile),
      AnyOf(HasSubstr("no password supplied"), HasSubstr("password authentication failed")));
  EXPECT_THAT(ConnectError(port, role, database, no_passfile + "&password=not-the-password"),
              HasSubstr(absl::StrCat("password authentication failed for user \"", role, "\"")));
  EXPECT_EQ(ConnectError(port, role, database, "passfile=" + passfile), "");
  EXPECT_EQ(ConnectError(port, role, database, ""), "") << "with PGPASSFILE of the test process";
}

// Mode 0600 (libpq ignores a file others may read) and this user's.
void ExpectPrivateFile(const std::string& path) {
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0) << path << " is missing";
  EXPECT_TRUE(S_ISREG(st.st_mode)) << path;
  EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  EXPECT_EQ(st.st_uid, geteuid()) << path;
}

TEST(StoreClusterAuthTest, EveryRoleNeedsItsPassword) {
  PostgresCluster& cluster = PostgresCluster::Get();
  absl::StatusOr<std::string> url = cluster.NewDatabase();  // a role of its own
  ASSERT_TRUE(url.ok()) << url.status();
  const std::string role = url->substr(url->rfind('/') + 1);
  ExpectPrivateFile(cluster.passfile());
  ExpectPasswordRequired(cluster.port(), "postgres", "postgres", cluster.passfile());
  ExpectPasswordRequired(cluster.port(), role, role, cluster.passfile());
}

class MeshSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mesh_.ok()) << mesh_.error(); }

  Mesh& mesh_ = SharedMesh();
};

TEST_F(MeshSecretsTest, EveryDatabaseRoleNeedsItsPassword) {
  ExpectPrivateFile(mesh_.passfile());
  ExpectPasswordRequired(mesh_.postgres_port(), "postgres", "postgres", mesh_.passfile());
  ExpectPasswordRequired(mesh_.postgres_port(), "ops", "ops", mesh_.passfile());
  ExpectPasswordRequired(mesh_.postgres_port(), "logging_writer", "logging", mesh_.passfile());
}

TEST_F(MeshSecretsTest, NoCommandLineCarriesTheGatewayKeyOrTheWebhookSecret) {
  // The secrets are in use: the gateway stand-in takes the harness's key.
  ASSERT_EQ(Tokenize(mesh_, "4242424242424242").rfind("pm_", 0), 0u)
      << "the gateway stand-in refused the harness's API key";
  ASSERT_GE(mesh_.gateway_api_key().size(), 16u);
  ASSERT_GE(mesh_.webhook_secret().size(), 16u);

  // Every process this user can see, the mesh's among them.
  std::map<pid_t, std::string> command_lines;
  DIR* proc = opendir("/proc");
  ASSERT_NE(proc, nullptr);
  while (dirent* entry = readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.empty() || !std::all_of(name.begin(), name.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    command_lines[std::stoi(name)] = ReadFile("/proc/" + name + "/cmdline");  // NUL-separated
  }
  closedir(proc);
  for (const auto& [service, pid] : mesh_.pids()) {
    ASSERT_THAT(command_lines[pid], HasSubstr("--listen=")) << service << " (pid " << pid << ")";
  }
  for (const auto& [pid, command_line] : command_lines) {
    const std::string program = command_line.substr(0, command_line.find('\0'));
    EXPECT_EQ(command_line.find(mesh_.gateway_api_key()), std::string::npos)
        << "the gateway API key is on the command line of pid " << pid << " (" << program << ")";
    EXPECT_EQ(command_line.find(mesh_.webhook_secret()), std::string::npos)
        << "the webhook secret is on the command line of pid " << pid << " (" << program << ")";
  }
}

}  // namespace
}  // namespace shop::testing
