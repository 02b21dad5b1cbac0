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

}  // namespace shop
