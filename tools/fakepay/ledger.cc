#include "tools/fakepay/ledger.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace fakepay {
namespace internal {

// Journal records use nlohmann::json; API responses use ordered_json so that
// "id" and "object" come first, as in Stripe's responses.
using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Persistent records. Field names are the journal schema; changing them
// breaks replay of existing state files.
// ---------------------------------------------------------------------------

struct CardToken {
  std::string id;
  std::string brand;
  std::string last4;
  int64_t exp_month = 0;
  int64_t exp_year = 0;
  std::string outcome;  // Simulated charge outcome, a kOutcomes name.
  int64_t created = 0;
};

struct Intent {
  std::string id;
  int64_t amount = 0;
  int64_t amount_capturable = 0;
  int64_t amount_received = 0;
  // Stripe reports refunds on the charge, not the intent; kept internally to
  // enforce the refund limit.
  int64_t amount_refunded = 0;
  std::string currency;
  std::string status;
  std::string capture_method;
  std::string payment_method;  // Empty after a decline, as Stripe detaches it.
  std::string latest_charge;
  std::string description;
  std::map<std::string, std::string> metadata;
  int64_t created = 0;
  int64_t canceled_at = 0;  // 0 while not canceled.
  std::string cancellation_reason;
  // Set by a decline; last_payment_error is rendered from these.
  std::string failed_outcome;
  std::string failed_payment_method;
};

struct Refund {
  std::string id;
  int64_t amount = 0;
  std::string currency;
  std::string payment_intent;
  std::string charge;
  std::string reason;
  std::map<std::string, std::string> metadata;
  int64_t created = 0;
};

struct LedgerEntry {
  int64_t seq = 0;
  std::string type;  // authorization | decline | capture | void | refund
  std::string payment_intent;
  int64_t amount = 0;
  std::string currency;
  std::string order_id;
  std::string decline_code;
  std::string idempotency_key;
  int64_t created = 0;
};

struct IdempotentResponse {
  std::string key;
  std::string fingerprint;  // Hex HMAC-SHA256 of method, path and params.
  int http_status = 0;
  std::string body;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CardToken, id, brand, last4, exp_month, exp_year, outcome,
                                   created)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Intent, id, amount, amount_capturable, amount_received,
                                   amount_refunded, currency, status, capture_method,
                                   payment_method, latest_charge, description, metadata, created,
                                   canceled_at, cancellation_reason, failed_outcome,
                                   failed_payment_method)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Refund, id, amount, currency, payment_intent, charge, reason,
                                   metadata, created)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LedgerEntry, seq, type, payment_intent, amount, currency,
                                   order_id, decline_code, idempotency_key, created)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(IdempotentResponse, key, fingerprint, http_status, body)

// Everything one API call changes. It is the unit of journaling: one commit
// is one journal line, so a torn write drops a whole call, never half of one.
struct Commit {
  std::string op;
  std::vector<CardToken> tokens;
  std::vector<Intent> intents;  // Full snapshots, upserted by id.
  std::vector<Refund> refunds;
  std::vector<LedgerEntry> entries;
  std::vector<IdempotentResponse> idempotency;  // Zero or one.
  // Webhook events to emit once the commit is applied: (type, data.object).
  // Never journaled, so replaying the journal at startup emits nothing.
  std::vector<std::pair<std::string, OJson>> events;

  bool empty() const {
    return tokens.empty() && intents.empty() && refunds.empty() && entries.empty() &&
           idempotency.empty();
  }
};

constexpr int kJournalVersion = 1;

Json CommitToJson(const Commit& c) {
  Json j = {{"v", kJournalVersion}, {"op", c.op}};
  if (!c.tokens.empty()) j["tokens"] = c.tokens;
  if (!c.intents.empty()) j["intents"] = c.intents;
  if (!c.refunds.empty()) j["refunds"] = c.refunds;
  if (!c.entries.empty()) j["entries"] = c.entries;
  if (!c.idempotency.empty()) j["idempotency"] = c.idempotency;
  return j;
}

// Throws nlohmann::json::exception on schema mismatch.
Commit CommitFromJson(const Json& j) {
  if (j.at("v").get<int>() != kJournalVersion) {
    throw std::runtime_error("unsupported journal version");
  }
  Commit c;
  c.op = j.at("op").get<std::string>();
  auto read = [&j](const char* name, auto* out) {
    if (j.contains(name)) j.at(name).get_to(*out);
  };
  read("tokens", &c.tokens);
  read("intents", &c.intents);
  read("refunds", &c.refunds);
  read("entries", &c.entries);
  read("idempotency", &c.idempotency);
  return c;
}

// ---------------------------------------------------------------------------
// Journal file: append-only JSON lines, fsync'ed per commit.
// ---------------------------------------------------------------------------

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

class Journal {
 public:
  // Opens and locks `path`, returning its complete records in `records`.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path,
                                                       std::vector<Json>* records,
                                                       std::vector<std::string>* warnings);

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal() { close(fd_); }

  // Appends one line and flushes it to disk. On failure the file is cut back
  // to its previous length so a half-written line cannot end up in the
  // middle of the journal once later appends succeed.
  absl::Status Append(const Json& record);

 private:
  Journal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  absl::Status ReadAll(std::string* contents);
  absl::Status Truncate(size_t length);

  int fd_;
  std::string path_;
  size_t size_ = 0;  // Length of the valid prefix.
};

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& path,
                                                       std::vector<Json>* records,
                                                       std::vector<std::string>* warnings) {
  // 0600: the journal holds idempotency keys and order metadata.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot open state file", path);
  auto journal = absl::WrapUnique(new Journal(fd, path));
  // Two servers appending to one journal would interleave and corrupt it.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("state file ", path, " is locked by another fakepay process"));
  }
  std::string contents;
  absl::Status read = journal->ReadAll(&contents);
  if (!read.ok()) return read;

  size_t pos = 0;
  int line_no = 0;
  while (pos < contents.size()) {
    ++line_no;
    size_t newline = contents.find('\n', pos);
    bool terminated = newline != std::string::npos;
    size_t next = terminated ? newline + 1 : contents.size();
    absl::string_view line(contents.data() + pos, (terminated ? newline : contents.size()) - pos);
    if (absl::StripAsciiWhitespace(line).empty()) {
      pos = next;  // Blank line: harmless.
      continue;
    }
    Json record = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (terminated && !record.is_discarded()) {
      records->push_back(std::move(record));
    } else if (next == contents.size()) {
      // Lines are written with a single write() ending in '\n', so only a
      // crash mid-append leaves an unterminated or unparsable last line.
      // That operation was never acknowledged; dropping it is correct.
      warnings->push_back(absl::StrCat("state file ", path, " line ", line_no,
                                       " is incomplete (torn write); "
                                       "ignoring it"));
      break;
    } else {
      return absl::DataLossError(
          absl::StrCat("state file ", path, " line ", line_no,
                       " is corrupt and is not the last line; refusing to start"));
    }
    pos = next;
  }
  if (pos < contents.size()) {
    // Cut the torn tail so the next append starts on a fresh line.
    absl::Status cut = journal->Truncate(pos);
    if (!cut.ok()) return cut;
  }
  journal->size_ = pos;
  return journal;
}

absl::Status Journal::ReadAll(std::string* contents) {
  char buf[1 << 16];
  while (true) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot read state file", path_);
    if (n == 0) return absl::OkStatus();
    contents->append(buf, static_cast<size_t>(n));
  }
}

absl::Status Journal::Truncate(size_t length) {
  if (ftruncate(fd_, static_cast<off_t>(length)) != 0 || fdatasync(fd_) != 0) {
    return ErrnoError("cannot truncate state file", path_);
  }
  return absl::OkStatus();
}

absl::Status Journal::Append(const Json& record) {
  // Replacement of invalid UTF-8 never triggers in practice (inputs are
  // validated in ParseForm) but keeps dump() from throwing.
  std::string line = record.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status error = ErrnoError("cannot write state file", path_);
      Truncate(size_).IgnoreError();
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (fdatasync(fd_) != 0) {
    absl::Status error = ErrnoError("cannot sync state file", path_);
    Truncate(size_).IgnoreError();
    return error;
  }
  size_ += line.size();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// In-memory state.
// ---------------------------------------------------------------------------

struct State {
  ProcessorOptions options;
  std::unique_ptr<Journal> journal;  // Null: in-memory only.
  std::map<std::string, CardToken> tokens;
  std::map<std::string, Intent> intents;
  std::map<std::string, Refund> refunds;
  std::vector<LedgerEntry> entries;
  std::map<std::string, IdempotentResponse> idempotency;
};

namespace {

// ---------------------------------------------------------------------------
// Card behaviour tables (Stripe's published test cards).
// ---------------------------------------------------------------------------

struct Outcome {
  const char* name;
  const char* code;  // Empty for success.
  const char* decline_code;
  const char* message;
};

constexpr char kSuccess[] = "success";

constexpr Outcome kOutcomes[] = {
    {kSuccess, "", "", ""},
    {"insufficient_funds", "card_declined", "insufficient_funds",
     "Your card has insufficient funds."},
    {"generic_decline", "card_declined", "generic_decline", "Your card was declined."},
    {"expired_card", "expired_card", "expired_card", "Your card has expired."},
    {"incorrect_cvc", "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."},
    {"processing_error", "processing_error", "processing_error",
     "An error occurred while processing your card. Try again in a little "
     "bit."},
};

const Outcome* FindOutcome(absl::string_view name) {
  for (const Outcome& o : kOutcomes) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

struct TestCard {
  const char* number;
  const char* outcome;
};

constexpr TestCard kTestCards[] = {
    {"4000000000009995", "insufficient_funds"}, {"4000000000000002", "generic_decline"},
    {"4000000000000069", "expired_card"},       {"4000000000000127", "incorrect_cvc"},
    {"4000000000000119", "processing_error"},
};

// Any other valid number, including 4242424242424242, succeeds.
const char* OutcomeForNumber(absl::string_view number) {
  for (const TestCard& card : kTestCards) {
    if (number == card.number) return card.outcome;
  }
  return kSuccess;
}

struct MagicPaymentMethod {
  const char* id;
  const char* last4;
  const char* outcome;
};

// Stripe's pre-registered test PaymentMethods. Like Stripe, each use mints a
// fresh pm_ token, so the intent reports the minted id.
constexpr MagicPaymentMethod kMagicPaymentMethods[] = {
    {"pm_card_visa", "4242", kSuccess},
    {"pm_card_visa_chargeDeclinedInsufficientFunds", "9995", "insufficient_funds"},
    {"pm_card_chargeDeclined", "0002", "generic_decline"},
    {"pm_card_chargeDeclinedExpiredCard", "0069", "expired_card"},
    {"pm_card_chargeDeclinedIncorrectCvc", "0127", "incorrect_cvc"},
    {"pm_card_chargeDeclinedProcessingError", "0119", "processing_error"},
};

const MagicPaymentMethod* FindMagicPaymentMethod(absl::string_view id) {
  for (const MagicPaymentMethod& pm : kMagicPaymentMethods) {
    if (id == pm.id) return &pm;
  }
  return nullptr;
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

bool LuhnValid(absl::string_view digits) {
  int sum = 0;
  bool double_it = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

// Numeric value of the first `len` digits of an all-digit string.
int Prefix(absl::string_view number, size_t len) {
  int value = 0;
  for (size_t i = 0; i < len && i < number.size(); ++i) {
    value = value * 10 + (number[i] - '0');
  }
  return value;
}

std::string CardBrand(absl::string_view n) {
  auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  if (n[0] == '4') return "visa";
  if (Prefix(n, 2) == 34 || Prefix(n, 2) == 37) return "amex";
  if (in(Prefix(n, 2), 51, 55) || in(Prefix(n, 4), 2221, 2720)) {
    return "mastercard";
  }
  if (Prefix(n, 4) == 6011 || Prefix(n, 2) == 65 || in(Prefix(n, 3), 644, 649)) {
    return "discover";
  }
  if (in(Prefix(n, 4), 3528, 3589)) return "jcb";
  if (Prefix(n, 2) == 36 || in(Prefix(n, 3), 300, 305)) return "diners";
  if (Prefix(n, 2) == 62) return "unionpay";
  return "unknown";
}

struct YearMonth {
  int64_t year;
  int64_t month;
};

YearMonth UtcYearMonth(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1};
}

// ---------------------------------------------------------------------------
// Ids, fingerprints and clocks.
// ---------------------------------------------------------------------------

std::string RandomId(absl::string_view prefix) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr size_t kRandomChars = 24;
  std::string id = absl::StrCat(prefix, "_");
  unsigned char buf[64];
  while (id.size() < prefix.size() + 1 + kRandomChars) {
    if (RAND_bytes(buf, sizeof(buf)) != 1) {
      std::fputs("fakepay: RAND_bytes failed\n", stderr);
      std::abort();
    }
    for (unsigned char b : buf) {
      // Rejecting 248..255 keeps the 62-symbol distribution uniform.
      if (b >= 248) continue;
      id.push_back(kAlphabet[b % 62]);
      if (id.size() == prefix.size() + 1 + kRandomChars) break;
    }
  }
  return id;
}

int64_t SystemNow() { return static_cast<int64_t>(std::time(nullptr)); }

// Length-prefixing each field makes the encoding unambiguous, so different
// parameter sets can never produce the same canonical string.
void AppendField(absl::string_view field, std::string* out) {
  absl::StrAppend(out, field.size(), ":", field, ";");
}

// Keyed (HMAC) rather than a plain hash: a card number has so little entropy
// that an unkeyed digest in the journal could be brute-forced.
std::string Fingerprint(const std::string& secret, absl::string_view method, absl::string_view path,
                        const Params& params) {
  std::string canonical;
  AppendField(method, &canonical);
  AppendField(path, &canonical);
  for (const auto& [name, value] : params) {
    AppendField(name, &canonical);
    AppendField(value, &canonical);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest,
       &digest_len);
  std::string hex;
  for (unsigned int i = 0; i < digest_len; ++i) {
    absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  }
  return hex;
}

// ---------------------------------------------------------------------------
// Response rendering.
// ---------------------------------------------------------------------------

Result Respond(int http_status, const OJson& body) {
  Result result;
  result.http_status = http_status;
  // `replace` instead of throwing: ids from request paths are echoed in
  // messages and may contain arbitrary bytes.
  result.body = body.dump(-1, ' ', false, OJson::error_handler_t::replace);
  return result;
}

OJson NullIfEmpty(const std::string& s) { return s.empty() ? OJson() : OJson(s); }

OJson MetadataJson(const std::map<std::string, std::string>& metadata) {
  OJson j = OJson::object();
  for (const auto& [key, value] : metadata) j[key] = value;
  return j;
}

OJson PaymentMethodJson(const CardToken& t) {
  return {{"id", t.id},
          {"object", "payment_method"},
          {"type", "card"},
          {"card",
           {{"brand", t.brand},
            {"last4", t.last4},
            {"exp_month", t.exp_month},
            {"exp_year", t.exp_year}}},
          {"created", t.created},
          {"livemode", false}};
}

// The card error for a declined charge, without the embedded intent.
OJson DeclineErrorJson(const Intent& intent, const CardToken* token) {
  const Outcome* outcome = FindOutcome(intent.failed_outcome);
  OJson error = {{"type", "card_error"},
                 {"code", outcome->code},
                 {"decline_code", outcome->decline_code},
                 {"message", outcome->message},
                 {"charge", intent.latest_charge}};
  error["payment_method"] = token ? PaymentMethodJson(*token) : OJson();
  return error;
}

OJson PaymentIntentJson(const Intent& i, const CardToken* failed_token) {
  OJson j = {{"id", i.id},
             {"object", "payment_intent"},
             {"amount", i.amount},
             {"amount_capturable", i.amount_capturable},
             {"amount_received", i.amount_received}};
  j["canceled_at"] = i.canceled_at ? OJson(i.canceled_at) : OJson();
  j["cancellation_reason"] = NullIfEmpty(i.cancellation_reason);
  j["capture_method"] = i.capture_method;
  j["created"] = i.created;
  j["currency"] = i.currency;
  j["description"] = NullIfEmpty(i.description);
  j["last_payment_error"] = i.failed_outcome.empty() ? OJson() : DeclineErrorJson(i, failed_token);
  j["latest_charge"] = NullIfEmpty(i.latest_charge);
  j["livemode"] = false;
  j["metadata"] = MetadataJson(i.metadata);
  j["payment_method"] = NullIfEmpty(i.payment_method);
  j["status"] = i.status;
  return j;
}

const CardToken* FindToken(const State& s, const std::string& id) {
  auto it = s.tokens.find(id);
  return it == s.tokens.end() ? nullptr : &it->second;
}

OJson RenderIntent(const State& s, const Intent& i) {
  return PaymentIntentJson(i, FindToken(s, i.failed_payment_method));
}

OJson RefundJson(const Refund& r) {
  return {{"id", r.id},
          {"object", "refund"},
          {"amount", r.amount},
          {"charge", r.charge},
          {"created", r.created},
          {"currency", r.currency},
          {"metadata", MetadataJson(r.metadata)},
          {"payment_intent", r.payment_intent},
          {"reason", NullIfEmpty(r.reason)},
          {"status", "succeeded"}};
}

// The charge behind an intent, as far as webhook consumers need it. Sent
// with charge.refunded only, so its status is "refunded" even after a
// partial refund; `refunded` says whether the whole amount was returned.
OJson ChargeJson(const Intent& i) {
  return {{"id", i.latest_charge},       {"object", "charge"},
          {"amount", i.amount_received}, {"amount_refunded", i.amount_refunded},
          {"currency", i.currency},      {"metadata", MetadataJson(i.metadata)},
          {"payment_intent", i.id},      {"refunded", i.amount_refunded >= i.amount_received},
          {"status", "refunded"}};
}

// The full event for one webhook, with a fresh evt_ id.
Event MakeEvent(const State& s, const std::string& type, const OJson& object) {
  Event event;
  event.id = s.options.new_id("evt");
  event.type = type;
  OJson body = {{"id", event.id},
                {"object", "event"},
                {"api_version", "2024-06-20"},
                {"created", s.options.now_seconds()},
                {"data", {{"object", object}}},
                {"livemode", false},
                {"pending_webhooks", 1},
                {"type", type}};
  event.body = body.dump();
  return event;
}

void EmitEvents(const State& s, const std::vector<std::pair<std::string, OJson>>& events) {
  if (!s.options.on_event) return;
  for (const auto& [type, object] : events) {
    s.options.on_event(MakeEvent(s, type, object));
  }
}

OJson LedgerEntryJson(const LedgerEntry& e) {
  return {{"seq", e.seq},
          {"type", e.type},
          {"payment_intent", e.payment_intent},
          {"amount", e.amount},
          {"currency", e.currency},
          {"order_id", NullIfEmpty(e.order_id)},
          {"decline_code", NullIfEmpty(e.decline_code)},
          {"idempotency_key", NullIfEmpty(e.idempotency_key)},
          {"created", e.created}};
}

Result InvalidRequest(int http_status, absl::string_view message, absl::string_view code = "",
                      absl::string_view param = "") {
  return ErrorResult(http_status, "invalid_request_error", message, code, param);
}

Result NoSuchIntent(absl::string_view id, absl::string_view param) {
  return InvalidRequest(param == "intent" ? 404 : 400,
                        absl::StrCat("No such payment_intent: '", id, "'"), "resource_missing",
                        param);
}

Result UnexpectedState(const State& s, const Intent& intent, absl::string_view action,
                       absl::string_view allowed_statuses) {
  OJson error = {{"type", "invalid_request_error"},
                 {"code", "payment_intent_unexpected_state"},
                 {"message", absl::StrCat("This PaymentIntent could not be ", action,
                                          " because it has a status of ", intent.status,
                                          ". Only a PaymentIntent with one of the following "
                                          "statuses may be ",
                                          action, ": ", allowed_statuses, ".")},
                 {"payment_intent", RenderIntent(s, intent)}};
  return Respond(400, {{"error", error}});
}

// ---------------------------------------------------------------------------
// Parameter validation. Each reader returns false and fills `*error` with the
// 400 to send. Messages never echo card data.
// ---------------------------------------------------------------------------

constexpr int64_t kMaxAmount = 99999999;

const std::string* RequireParam(const Params& p, const std::string& name, Result* error) {
  auto it = p.find(name);
  if (it == p.end()) {
    *error = InvalidRequest(400, absl::StrCat("Missing required param: ", name, "."),
                            "parameter_missing", name);
    return nullptr;
  }
  if (it->second.empty()) {
    *error = InvalidRequest(400,
                            absl::StrCat("You passed an empty string for '", name,
                                         "'. We assume empty values are an attempt to unset a "
                                         "parameter; however '",
                                         name, "' cannot be unset."),
                            "parameter_invalid_empty", name);
    return nullptr;
  }
  return &it->second;
}

std::string InvalidIntegerMessage(const std::string& value) {
  // Long values are not echoed; they are noise at best.
  return value.size() <= 32 ? absl::StrCat("Invalid integer: ", value)
                            : std::string("Invalid integer.");
}

// Reads an amount in minor units: a plain decimal in [1, kMaxAmount].
// Absent optional amounts leave `*out` empty.
bool ReadAmount(const Params& p, const std::string& name, bool required,
                std::optional<int64_t>* out, Result* error) {
  if (!required && p.find(name) == p.end()) return true;
  const std::string* value = RequireParam(p, name, error);
  if (value == nullptr) return false;
  if (!AllDigits(*value)) {
    *error = InvalidRequest(400, InvalidIntegerMessage(*value), "parameter_invalid_integer", name);
    return false;
  }
  absl::string_view digits = *value;
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  int64_t amount = 0;
  // More than 18 digits would overflow int64; it is too large either way.
  if (digits.size() > 18 || !absl::SimpleAtoi(digits, &amount) || amount > kMaxAmount) {
    *error = InvalidRequest(400,
                            absl::StrCat("Amount must be no more than ", kMaxAmount,
                                         " (in the currency's smallest unit)."),
                            "amount_too_large", name);
    return false;
  }
  if (amount < 1) {
    *error = InvalidRequest(400, "This value must be greater than or equal to 1.",
                            "parameter_invalid_integer", name);
    return false;
  }
  *out = amount;
  return true;
}

// Reads a required small non-negative integer such as an expiry month.
bool ReadSmallInt(const Params& p, const std::string& name, int64_t* out, Result* error) {
  const std::string* value = RequireParam(p, name, error);
  if (value == nullptr) return false;
  if (!AllDigits(*value) || value->size() > 4 || !absl::SimpleAtoi(*value, out)) {
    *error = InvalidRequest(400, InvalidIntegerMessage(*value), "parameter_invalid_integer", name);
    return false;
  }
  return true;
}

// Reads an optional enum-valued parameter, defaulting when absent.
bool ReadEnum(const Params& p, const std::string& name,
              std::initializer_list<absl::string_view> allowed, absl::string_view default_value,
              std::string* out, Result* error) {
  auto it = p.find(name);
  if (it == p.end()) {
    *out = std::string(default_value);
    return true;
  }
  for (absl::string_view candidate : allowed) {
    if (it->second == candidate) {
      *out = it->second;
      return true;
    }
  }
  *error = InvalidRequest(
      400, absl::StrCat("Invalid ", name, ": must be one of ", absl::StrJoin(allowed, ", "), "."),
      "", name);
  return false;
}

bool ReadCurrency(const Params& p, std::string* out, Result* error) {
  const std::string* value = RequireParam(p, "currency", error);
  if (value == nullptr) return false;
  // Stripe accepts any case and reports lowercase.
  std::string currency = absl::AsciiStrToLower(*value);
  for (absl::string_view supported : {"usd", "eur", "gbp", "jpy"}) {
    if (currency == supported) {
      *out = currency;
      return true;
    }
  }
  *error = InvalidRequest(
      400,
      value->size() <= 8
          ? absl::StrCat("Invalid currency: ", *value, ". fakepay supports usd, eur, gbp and jpy.")
          : "Invalid currency. fakepay supports usd, eur, gbp and jpy.",
      "", "currency");
  return false;
}

// Stripe's metadata limits: 50 keys, 40-character keys, 500-character
// values. An empty value means "unset" and is dropped.
bool ReadMetadata(const Params& p, std::map<std::string, std::string>* out, Result* error) {
  constexpr absl::string_view kPrefix = "metadata[";
  for (auto it = p.lower_bound(std::string(kPrefix));
       it != p.end() && absl::StartsWith(it->first, kPrefix); ++it) {
    absl::string_view key = it->first;
    key.remove_prefix(kPrefix.size());
    if (!absl::ConsumeSuffix(&key, "]") || key.empty() || key.size() > 40 ||
        absl::StrContains(key, '[') || absl::StrContains(key, ']')) {
      *error = InvalidRequest(400, "Invalid metadata key.", "", it->first);
      return false;
    }
    if (it->second.size() > 500) {
      *error = InvalidRequest(400, "Metadata values can have up to 500 characters.", "", it->first);
      return false;
    }
    if (!it->second.empty()) (*out)[std::string(key)] = it->second;
  }
  if (out->size() > 50) {
    *error = InvalidRequest(400, "Metadata can have up to 50 keys.", "", "metadata");
    return false;
  }
  return true;
}

const std::string* OptionalParam(const Params& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------
// Planners: read state, describe the change in `commit`, return the response.
// They never mutate state, and only touch `commit` once all validation has
// passed, so a rejected request leaves no trace.
// ---------------------------------------------------------------------------

int64_t Now(const State& s) { return s.options.now_seconds(); }

std::string NewId(const State& s, absl::string_view prefix) { return s.options.new_id(prefix); }

// Appends a ledger entry; the idempotency key is stamped later by Mutate.
void AddEntry(const State& s, absl::string_view type, const Intent& intent, int64_t amount,
              Commit* commit) {
  LedgerEntry e;
  e.seq = static_cast<int64_t>(s.entries.size() + commit->entries.size() + 1);
  e.type = std::string(type);
  e.payment_intent = intent.id;
  e.amount = amount;
  e.currency = intent.currency;
  auto order = intent.metadata.find("order_id");
  if (order != intent.metadata.end()) e.order_id = order->second;
  e.created = Now(s);
  commit->entries.push_back(std::move(e));
}

Result CardError(absl::string_view code, absl::string_view message, absl::string_view param) {
  return ErrorResult(402, "card_error", message, code, param);
}

// Card checks in Stripe's order: number, expiry, CVC. Returns false with a
// 402 card error in `*error`.
bool ValidateCard(const State& s, const std::string& number, int64_t exp_month, int64_t* exp_year,
                  const Params& p, Result* error) {
  if (!AllDigits(number) || number.size() < 12 || number.size() > 19) {
    *error = CardError("invalid_number", "Your card number is not a valid credit card number.",
                       "number");
    return false;
  }
  if (!LuhnValid(number)) {
    *error = CardError("incorrect_number", "Your card number is incorrect.", "number");
    return false;
  }
  if (exp_month < 1 || exp_month > 12) {
    *error =
        CardError("invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month");
    return false;
  }
  if (*exp_year < 100) *exp_year += 2000;  // Two-digit years.
  YearMonth now = UtcYearMonth(Now(s));
  if (*exp_year < 2000 || *exp_year > now.year + 50) {
    *error =
        CardError("invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year");
    return false;
  }
  if (*exp_year < now.year || (*exp_year == now.year && exp_month < now.month)) {
    *error = CardError("expired_card", "Your card has expired.", "exp_month");
    return false;
  }
  const std::string* cvc = OptionalParam(p, "card[cvc]");
  if (cvc != nullptr && (!AllDigits(*cvc) || cvc->size() < 3 || cvc->size() > 4)) {
    *error = CardError("invalid_cvc", "Your card's security code is invalid.", "cvc");
    return false;
  }
  return true;
}

Result PlanCreatePaymentMethod(const State& s, const Params& p, Commit* commit) {
  Result error;
  const std::string* type = RequireParam(p, "type", &error);
  if (type == nullptr) return error;
  if (*type != "card") {
    return InvalidRequest(400, "Invalid type: fakepay only supports card.", "", "type");
  }
  const std::string* number = RequireParam(p, "card[number]", &error);
  if (number == nullptr) return error;
  int64_t exp_month = 0;
  int64_t exp_year = 0;
  if (!ReadSmallInt(p, "card[exp_month]", &exp_month, &error) ||
      !ReadSmallInt(p, "card[exp_year]", &exp_year, &error) ||
      !ValidateCard(s, *number, exp_month, &exp_year, p, &error)) {
    return error;
  }
  CardToken token;
  token.id = NewId(s, "pm");
  token.brand = CardBrand(*number);
  token.last4 = number->substr(number->size() - 4);
  token.exp_month = exp_month;
  token.exp_year = exp_year;
  token.outcome = OutcomeForNumber(*number);
  token.created = Now(s);
  commit->tokens.push_back(token);
  return Respond(200, PaymentMethodJson(token));
}

// Finds a tokenized card, or mints one for a Stripe magic test id (adding it
// to `commit`). Call only after all other validation has passed.
std::optional<CardToken> ResolvePaymentMethod(const State& s, const std::string& id,
                                              Commit* commit) {
  if (const CardToken* token = FindToken(s, id)) return *token;
  const MagicPaymentMethod* magic = FindMagicPaymentMethod(id);
  if (magic == nullptr) return std::nullopt;
  CardToken token;
  token.id = NewId(s, "pm");
  token.brand = "visa";
  token.last4 = magic->last4;
  token.exp_month = 12;
  token.exp_year = UtcYearMonth(Now(s)).year + 3;
  token.outcome = magic->outcome;
  token.created = Now(s);
  commit->tokens.push_back(token);
  return token;
}

bool IsManual(const Intent& intent) { return intent.capture_method == "manual"; }

Result Authorize(const State& s, Intent intent, Commit* commit) {
  intent.status = IsManual(intent) ? "requires_capture" : "succeeded";
  intent.amount_capturable = IsManual(intent) ? intent.amount : 0;
  intent.amount_received = IsManual(intent) ? 0 : intent.amount;
  AddEntry(s, "authorization", intent, intent.amount, commit);
  // Automatic capture is an authorization and a capture in one step; both
  // are recorded so the ledger totals reconcile the same way either way.
  if (!IsManual(intent)) AddEntry(s, "capture", intent, intent.amount, commit);
  commit->intents.push_back(intent);
  OJson json = PaymentIntentJson(intent, nullptr);
  if (!IsManual(intent)) {
    commit->events.emplace_back("payment_intent.succeeded", json);
  }
  return Respond(200, json);
}

Result Decline(const State& s, Intent intent, const CardToken& token, const Outcome& outcome,
               Commit* commit) {
  intent.status = "requires_payment_method";
  intent.payment_method.clear();
  intent.failed_outcome = outcome.name;
  intent.failed_payment_method = token.id;
  AddEntry(s, "decline", intent, intent.amount, commit);
  commit->entries.back().decline_code = outcome.decline_code;
  commit->intents.push_back(intent);
  OJson error = DeclineErrorJson(intent, &token);
  error["payment_intent"] = PaymentIntentJson(intent, &token);
  commit->events.emplace_back("payment_intent.payment_failed", error["payment_intent"]);
  return Respond(402, {{"error", error}});
}

Result PlanCreatePaymentIntent(const State& s, const Params& p, Commit* commit) {
  Result error;
  Intent intent;
  std::optional<int64_t> amount;
  if (!ReadAmount(p, "amount", /*required=*/true, &amount, &error) ||
      !ReadCurrency(p, &intent.currency, &error) ||
      !ReadEnum(p, "capture_method", {"automatic", "automatic_async", "manual"}, "automatic",
                &intent.capture_method, &error) ||
      !ReadMetadata(p, &intent.metadata, &error)) {
    return error;
  }
  const std::string* confirm = OptionalParam(p, "confirm");
  if (confirm == nullptr || *confirm != "true") {
    // There is no /confirm endpoint, so an unconfirmed intent would be a
    // dead end; reject instead of pretending.
    return InvalidRequest(400, "fakepay only supports confirm=true.",
                          "payment_intent_invalid_parameter", "confirm");
  }
  const std::string* pm_id = RequireParam(p, "payment_method", &error);
  if (pm_id == nullptr) return error;
  std::optional<CardToken> token = ResolvePaymentMethod(s, *pm_id, commit);
  if (!token) {
    return InvalidRequest(400, absl::StrCat("No such PaymentMethod: '", *pm_id, "'"),
                          "resource_missing", "payment_method");
  }
  if (const std::string* d = OptionalParam(p, "description")) {
    intent.description = *d;
  }
  intent.id = NewId(s, "pi");
  intent.amount = *amount;
  intent.payment_method = token->id;
  intent.latest_charge = NewId(s, "ch");
  intent.created = Now(s);
  const Outcome& outcome = *FindOutcome(token->outcome);
  if (outcome.name == absl::string_view(kSuccess)) {
    return Authorize(s, std::move(intent), commit);
  }
  return Decline(s, std::move(intent), *token, outcome, commit);
}

Result PlanCapture(const State& s, const std::string& id, const Params& p, Commit* commit) {
  auto it = s.intents.find(id);
  if (it == s.intents.end()) return NoSuchIntent(id, "intent");
  Intent intent = it->second;
  if (intent.status != "requires_capture") {
    return UnexpectedState(s, intent, "captured", "requires_capture");
  }
  Result error;
  std::optional<int64_t> requested;
  if (!ReadAmount(p, "amount_to_capture", /*required=*/false, &requested, &error)) {
    return error;
  }
  int64_t amount = requested.value_or(intent.amount_capturable);
  if (amount > intent.amount_capturable) {
    return InvalidRequest(400,
                          absl::StrCat("The amount_to_capture (", amount,
                                       ") must be less than or equal to the amount_capturable (",
                                       intent.amount_capturable, ")."),
                          "amount_too_large", "amount_to_capture");
  }
  int64_t released = intent.amount_capturable - amount;
  intent.status = "succeeded";
  intent.amount_received = amount;
  intent.amount_capturable = 0;
  AddEntry(s, "capture", intent, amount, commit);
  // A partial capture releases the rest of the hold, like a void.
  if (released > 0) AddEntry(s, "void", intent, released, commit);
  commit->intents.push_back(intent);
  OJson json = RenderIntent(s, intent);
  commit->events.emplace_back("payment_intent.succeeded", json);
  return Respond(200, json);
}

Result PlanCancel(const State& s, const std::string& id, const Params& p, Commit* commit) {
  auto it = s.intents.find(id);
  if (it == s.intents.end()) return NoSuchIntent(id, "intent");
  Intent intent = it->second;
  if (intent.status != "requires_capture" && intent.status != "requires_payment_method") {
    return UnexpectedState(s, intent, "canceled", "requires_payment_method, requires_capture");
  }
  Result error;
  std::string reason;
  if (!ReadEnum(p, "cancellation_reason",
                {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}, "", &reason,
                &error)) {
    return error;
  }
  // Only releasing an authorization hold moves money; canceling a declined
  // intent changes its status but adds no ledger entry.
  if (intent.amount_capturable > 0) {
    AddEntry(s, "void", intent, intent.amount_capturable, commit);
  }
  intent.status = "canceled";
  intent.amount_capturable = 0;
  intent.canceled_at = Now(s);
  intent.cancellation_reason = reason;
  commit->intents.push_back(intent);
  OJson json = RenderIntent(s, intent);
  commit->events.emplace_back("payment_intent.canceled", json);
  return Respond(200, json);
}

Result PlanRefund(const State& s, const Params& p, Commit* commit) {
  Result error;
  const std::string* pi_id = RequireParam(p, "payment_intent", &error);
  if (pi_id == nullptr) return error;
  auto it = s.intents.find(*pi_id);
  if (it == s.intents.end()) return NoSuchIntent(*pi_id, "payment_intent");
  Intent intent = it->second;
  if (intent.status != "succeeded") {
    return InvalidRequest(400,
                          absl::StrCat("This PaymentIntent has a status of ", intent.status,
                                       "; only succeeded PaymentIntents can be refunded."),
                          "payment_intent_unexpected_state", "payment_intent");
  }
  int64_t remaining = intent.amount_received - intent.amount_refunded;
  if (remaining <= 0) {
    return InvalidRequest(
        400, absl::StrCat("Charge ", intent.latest_charge, " has already been refunded."),
        "charge_already_refunded");
  }
  Refund refund;
  std::optional<int64_t> requested;
  if (!ReadAmount(p, "amount", /*required=*/false, &requested, &error) ||
      !ReadEnum(p, "reason", {"duplicate", "fraudulent", "requested_by_customer"}, "",
                &refund.reason, &error) ||
      !ReadMetadata(p, &refund.metadata, &error)) {
    return error;
  }
  refund.amount = requested.value_or(remaining);
  if (refund.amount > remaining) {
    return InvalidRequest(
        400,
        absl::StrCat("Refund amount (", refund.amount,
                     ") is greater than unrefunded amount on charge (", remaining, ")."),
        "amount_too_large", "amount");
  }
  refund.id = NewId(s, "re");
  refund.currency = intent.currency;
  refund.payment_intent = intent.id;
  refund.charge = intent.latest_charge;
  refund.created = Now(s);
  intent.amount_refunded += refund.amount;
  AddEntry(s, "refund", intent, refund.amount, commit);
  commit->intents.push_back(intent);
  commit->refunds.push_back(refund);
  commit->events.emplace_back("charge.refunded", ChargeJson(intent));
  return Respond(200, RefundJson(refund));
}

// ---------------------------------------------------------------------------
// Commit application: the only code that mutates State, used both live and
// on replay.
// ---------------------------------------------------------------------------

absl::Status Apply(const Commit& c, State* s) {
  for (const CardToken& t : c.tokens) {
    if (FindOutcome(t.outcome) == nullptr) {
      return absl::DataLossError("token with unknown card outcome");
    }
    s->tokens[t.id] = t;
  }
  for (const Intent& i : c.intents) {
    if (!i.failed_outcome.empty() && FindOutcome(i.failed_outcome) == nullptr) {
      return absl::DataLossError("intent with unknown decline outcome");
    }
    s->intents[i.id] = i;
  }
  for (const Refund& r : c.refunds) s->refunds[r.id] = r;
  for (const LedgerEntry& e : c.entries) {
    if (e.seq != static_cast<int64_t>(s->entries.size() + 1)) {
      return absl::DataLossError("ledger sequence gap");
    }
    s->entries.push_back(e);
  }
  for (const IdempotentResponse& r : c.idempotency) s->idempotency[r.key] = r;
  return absl::OkStatus();
}

absl::Status Replay(const std::vector<Json>& records, State* s) {
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status status;
    try {
      status = Apply(CommitFromJson(records[i]), s);
    } catch (const std::exception& e) {
      status = absl::DataLossError(e.what());
    }
    if (!status.ok()) {
      return absl::DataLossError(absl::StrCat("state file record ", i + 1, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

bool ValidIdempotencyKey(absl::string_view key) {
  if (key.size() > 255) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Stripe keeps results only for requests that executed: successes and card
// errors. Validation failures are not saved, so a client can fix its
// parameters and retry with the same key.
bool IsSavedForIdempotency(int http_status) { return http_status == 200 || http_status == 402; }

// ---------------------------------------------------------------------------
// Form decoding.
// ---------------------------------------------------------------------------

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c != '%') {
      out->push_back(c);
    } else {
      if (i + 2 >= in.size()) return false;  // Truncated escape.
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return true;
}

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace
}  // namespace internal

using internal::Commit;
using internal::OJson;
using internal::State;

absl::StatusOr<Params> ParseForm(absl::string_view body) {
  Params params;
  for (absl::string_view pair : absl::StrSplit(body, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    absl::string_view raw_name = pair.substr(0, eq);
    absl::string_view raw_value = eq == absl::string_view::npos ? "" : pair.substr(eq + 1);
    std::string name;
    std::string value;
    if (!internal::PercentDecode(raw_name, &name) || !internal::PercentDecode(raw_value, &value)) {
      return absl::InvalidArgumentError("Malformed percent-encoding in the request body.");
    }
    if (name.empty()) {
      return absl::InvalidArgumentError("Empty parameter name in the request body.");
    }
    if (!internal::IsValidUtf8(name) || !internal::IsValidUtf8(value)) {
      return absl::InvalidArgumentError("The request body is not valid UTF-8.");
    }
    params[std::move(name)] = std::move(value);
  }
  return params;
}

Result ErrorResult(int http_status, absl::string_view type, absl::string_view message,
                   absl::string_view code, absl::string_view param) {
  OJson error = {{"type", type}};
  if (!code.empty()) error["code"] = code;
  error["message"] = message;
  if (!param.empty()) error["param"] = param;
  return internal::Respond(http_status, {{"error", error}});
}

Processor::Processor(std::unique_ptr<State> state) : state_(std::move(state)) {}

Processor::~Processor() = default;

absl::StatusOr<std::unique_ptr<Processor>> Processor::Open(ProcessorOptions options,
                                                           std::vector<std::string>* warnings) {
  auto state = std::make_unique<State>();
  if (!options.now_seconds) options.now_seconds = internal::SystemNow;
  if (!options.new_id) options.new_id = internal::RandomId;
  state->options = std::move(options);
  const std::string& path = state->options.journal_path;
  if (!path.empty()) {
    std::vector<internal::Json> records;
    auto journal = internal::Journal::Open(path, &records, warnings);
    if (!journal.ok()) return journal.status();
    state->journal = *std::move(journal);
    absl::Status replayed = internal::Replay(records, state.get());
    if (!replayed.ok()) return replayed;
  }
  return absl::WrapUnique(new Processor(std::move(state)));
}

Result Processor::Mutate(absl::string_view op, absl::string_view path, const Params& params,
                         absl::string_view idempotency_key, const Planner& plan) {
  absl::MutexLock lock(&mu_);
  State& s = *state_;
  std::string key(idempotency_key);
  std::string fingerprint;
  if (!key.empty()) {
    if (!internal::ValidIdempotencyKey(key)) {
      return ErrorResult(400, "invalid_request_error",
                         "Idempotency-Key must be at most 255 printable ASCII "
                         "characters.");
    }
    fingerprint = internal::Fingerprint(s.options.fingerprint_secret, "POST", path, params);
    auto it = s.idempotency.find(key);
    if (it != s.idempotency.end()) {
      if (it->second.fingerprint != fingerprint) {
        return ErrorResult(400, "idempotency_error",
                           absl::StrCat("Keys for idempotent requests can only be used with "
                                        "the same parameters they were first used with. Try "
                                        "using a key other than '",
                                        key, "' if you meant to execute a different request."));
      }
      return Result{it->second.http_status, it->second.body, true};
    }
  }
  Commit commit;
  commit.op = std::string(op);
  Result result = plan(s, &commit);
  for (internal::LedgerEntry& e : commit.entries) e.idempotency_key = key;
  if (!key.empty() && internal::IsSavedForIdempotency(result.http_status)) {
    commit.idempotency.push_back({key, fingerprint, result.http_status, result.body});
  }
  if (commit.empty()) return result;
  if (s.journal != nullptr) {
    absl::Status persisted = s.journal->Append(internal::CommitToJson(commit));
    if (!persisted.ok()) {
      // Nothing was applied, so the client may safely retry.
      return ErrorResult(
          500, "api_error",
          absl::StrCat("fakepay could not persist the operation: ", persisted.message()));
    }
  }
  absl::Status applied = internal::Apply(commit, &s);
  if (!applied.ok()) {
    return ErrorResult(500, "api_error",
                       absl::StrCat("fakepay internal error: ", applied.message()));
  }
  internal::EmitEvents(s, commit.events);
  return result;
}

Result Processor::CreatePaymentMethod(const Params& params, absl::string_view idempotency_key) {
  return Mutate(
      "payment_method.create", "/v1/payment_methods", params, idempotency_key,
      [&](const State& s, Commit* c) { return internal::PlanCreatePaymentMethod(s, params, c); });
}

Result Processor::CreatePaymentIntent(const Params& params, absl::string_view idempotency_key) {
  return Mutate(
      "payment_intent.create", "/v1/payment_intents", params, idempotency_key,
      [&](const State& s, Commit* c) { return internal::PlanCreatePaymentIntent(s, params, c); });
}

Result Processor::CapturePaymentIntent(absl::string_view id, const Params& params,
                                       absl::string_view idempotency_key) {
  std::string intent_id(id);
  return Mutate("payment_intent.capture", absl::StrCat("/v1/payment_intents/", id, "/capture"),
                params, idempotency_key, [&](const State& s, Commit* c) {
                  return internal::PlanCapture(s, intent_id, params, c);
                });
}

Result Processor::CancelPaymentIntent(absl::string_view id, const Params& params,
                                      absl::string_view idempotency_key) {
  std::string intent_id(id);
  return Mutate("payment_intent.cancel", absl::StrCat("/v1/payment_intents/", id, "/cancel"),
                params, idempotency_key, [&](const State& s, Commit* c) {
                  return internal::PlanCancel(s, intent_id, params, c);
                });
}

Result Processor::CreateRefund(const Params& params, absl::string_view idempotency_key) {
  return Mutate("refund.create", "/v1/refunds", params, idempotency_key,
                [&](const State& s, Commit* c) { return internal::PlanRefund(s, params, c); });
}

Result Processor::CreateTestDispute(const Params& params) {
  // Exclusive, so the event is ordered with those of concurrent mutations.
  absl::MutexLock lock(&mu_);
  const internal::State& s = *state_;
  Result error;
  const std::string* pi_id = internal::RequireParam(params, "payment_intent", &error);
  if (pi_id == nullptr) return error;
  auto it = s.intents.find(*pi_id);
  if (it == s.intents.end()) {
    return ErrorResult(404, "invalid_request_error",
                       absl::StrCat("No such payment_intent: '", *pi_id, "'"), "resource_missing",
                       "payment_intent");
  }
  const internal::Intent& intent = it->second;
  if (intent.status != "succeeded") {
    return ErrorResult(400, "invalid_request_error",
                       absl::StrCat("This PaymentIntent has a status of ", intent.status,
                                    "; only succeeded PaymentIntents can be disputed."),
                       "payment_intent_unexpected_state", "payment_intent");
  }
  internal::OJson dispute = {{"id", internal::NewId(s, "dp")},
                             {"object", "dispute"},
                             {"amount", intent.amount_received},
                             {"charge", internal::NullIfEmpty(intent.latest_charge)},
                             {"created", internal::Now(s)},
                             {"currency", intent.currency},
                             {"metadata", internal::MetadataJson(intent.metadata)},
                             {"payment_intent", intent.id},
                             {"reason", "fraudulent"},
                             {"status", "needs_response"}};
  internal::EmitEvents(s, {{"charge.dispute.created", dispute}});
  return internal::Respond(200, dispute);
}

Result Processor::GetPaymentIntent(absl::string_view id) {
  absl::ReaderMutexLock lock(&mu_);
  auto it = state_->intents.find(std::string(id));
  if (it == state_->intents.end()) return internal::NoSuchIntent(id, "intent");
  return internal::Respond(200, internal::RenderIntent(*state_, it->second));
}

Result Processor::GetLedger(absl::string_view order_id_filter) {
  absl::ReaderMutexLock lock(&mu_);
  OJson entries = OJson::array();
  std::map<std::string, int64_t> totals = {
      {"authorization", 0}, {"capture", 0}, {"refund", 0}, {"void", 0}};
  for (const internal::LedgerEntry& e : state_->entries) {
    if (!order_id_filter.empty() && e.order_id != order_id_filter) continue;
    entries.push_back(internal::LedgerEntryJson(e));
    auto total = totals.find(e.type);
    if (total != totals.end()) total->second += e.amount;
  }
  OJson body = {{"entries", entries},
                {"totals",
                 {{"authorized", totals["authorization"]},
                  {"captured", totals["capture"]},
                  {"refunded", totals["refund"]},
                  {"voided", totals["void"]}}}};
  return internal::Respond(200, body);
}

}  // namespace fakepay
