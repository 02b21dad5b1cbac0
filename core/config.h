// Process start-up: flags from the command line, each also settable from the
// environment as SHOP_<FLAG_NAME_IN_UPPER_CASE> (the command line wins).
#ifndef SHOP_CORE_CONFIG_H_
#define SHOP_CORE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shop {

// Applies environment overrides, parses the command line, initializes
// logging for `service`. Exits with status 2 and a message on a bad flag or
// environment value. Returns the positional arguments (argv[0] first).
std::vector<char*> InitProcess(int argc, char** argv, absl::string_view service,
                               absl::string_view usage);

// Checks that each named flag has a non-empty value; the error lists all
// missing ones with their environment variable names.
absl::Status RequireFlags(const std::vector<absl::string_view>& names);

// Logs `status` as a fatal start-up error and exits with status 1.
[[noreturn]] void ExitOnStartupError(absl::string_view what, const absl::Status& status);

// The environment variable that sets flag `flag_name`.
std::string EnvNameForFlag(absl::string_view flag_name);

// Flags that carry secrets come from the environment only: every local user
// can read a command line (/proc/<pid>/cmdline), only the owner the
// environment. Prints "<program>: --<flag> is refused on the command line
// ..., set <VARIABLE> in the environment instead" and exits with
// `exit_code` when one of `secret_flags` is on the command line
// ("--token=...", "-token ..."; arguments after "--" are positional).
void RefuseSecretsOnCommandLine(int argc, char** argv, absl::string_view program,
                                const std::vector<absl::string_view>& secret_flags, int exit_code);
// The first of `secret_flags` on the command line, or "" (what the above
// checks).
std::string SecretFlagOnCommandLine(int argc, char** argv,
                                    const std::vector<absl::string_view>& secret_flags);

}  // namespace shop

#endif  // SHOP_CORE_CONFIG_H_
