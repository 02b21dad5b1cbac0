#include "core/config.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/log.h"

ABSL_FLAG(std::string, log_level, "info", "Minimum log level: debug, info, warn, error.");

namespace shop {

std::string EnvNameForFlag(absl::string_view flag_name) {
  return absl::StrCat("SHOP_", absl::AsciiStrToUpper(flag_name));
}

std::vector<char*> InitProcess(int argc, char** argv, absl::string_view service,
                               absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  for (auto& [name, flag] : absl::GetAllFlags()) {
    const char* value = std::getenv(EnvNameForFlag(name).c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "%s: bad value in %s: %s\n", std::string(service).c_str(),
                   EnvNameForFlag(name).c_str(), error.c_str());
      std::exit(2);
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  log::Init(service, absl::GetFlag(FLAGS_log_level));
  return positional;
}

absl::Status RequireFlags(const std::vector<absl::string_view>& names) {
  std::vector<std::string> missing;
  for (absl::string_view name : names) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || flag->CurrentValue().empty()) {
      missing.push_back(absl::StrCat("--", name, " (or ", EnvNameForFlag(name), ")"));
    }
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("missing required configuration: ", absl::StrJoin(missing, ", ")));
}

void ExitOnStartupError(absl::string_view what, const absl::Status& status) {
  log::Error(absl::StrCat(what, ": ", status.message()),
             {{"code", absl::StatusCodeToString(status.code())}});
  std::exit(1);
}

std::string SecretFlagOnCommandLine(int argc, char** argv,
                                    const std::vector<absl::string_view>& secret_flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "-")) continue;
    absl::ConsumePrefix(&arg, "-");
    arg = arg.substr(0, arg.find('='));
    for (absl::string_view secret : secret_flags) {
      if (arg == secret) return std::string(secret);
    }
  }
  return "";
}

void RefuseSecretsOnCommandLine(int argc, char** argv, absl::string_view program,
                                const std::vector<absl::string_view>& secret_flags, int exit_code) {
  const std::string flag = SecretFlagOnCommandLine(argc, argv, secret_flags);
  if (flag.empty()) return;
  std::fprintf(stderr,
               "%.*s: --%s is refused on the command line, which every local user can read "
               "(/proc/<pid>/cmdline); set %s in the environment instead\n",
               static_cast<int>(program.size()), program.data(), flag.c_str(),
               EnvNameForFlag(flag).c_str());
  std::exit(exit_code);
}

}  // namespace shop
