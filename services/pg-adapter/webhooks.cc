#include "services/pg-adapter/webhooks.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/log.h"

namespace shop::payments {
namespace {

std::string JsonString(const nlohmann::json& json, const char* key) {
  return json.is_object() && json.contains(key) && json[key].is_string()
             ? json[key].get<std::string>()
             : "";
}

}  // namespace

std::string WebhookSignature(absl::string_view secret, int64_t timestamp, absl::string_view body) {
  std::string signed_payload = absl::StrCat(timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_payload.data()), signed_payload.size(), mac,
       &mac_size);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

absl::Status VerifyWebhookSignature(absl::string_view secret, absl::string_view header,
                                    absl::string_view body, absl::Time now,
                                    absl::Duration tolerance) {
  int64_t timestamp = -1;
  std::vector<std::string> signatures;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "t" && !absl::SimpleAtoi(kv.second, &timestamp)) timestamp = -1;
    if (kv.first == "v1") signatures.emplace_back(kv.second);
  }
  if (timestamp < 0 || signatures.empty()) {
    return absl::UnauthenticatedError("missing or malformed Stripe-Signature header");
  }
  if (absl::AbsDuration(now - absl::FromUnixSeconds(timestamp)) > tolerance) {
    return absl::UnauthenticatedError("signature timestamp outside the tolerance (a replay?)");
  }
  const std::string expected = WebhookSignature(secret, timestamp, body);
  for (const std::string& signature : signatures) {
    if (signature.size() == expected.size() &&
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0) {
      return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError("signature does not match");
}

absl::StatusOr<WebhookEvent> ParseWebhookEvent(absl::string_view body) {
  nlohmann::json json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!json.is_object()) return absl::InvalidArgumentError("event is not a JSON object");
  WebhookEvent event;
  event.event_id = JsonString(json, "id");
  event.type = JsonString(json, "type");
  if (event.event_id.empty() || event.event_id.size() > 128 || event.type.empty() ||
      event.type.size() > 128) {
    return absl::InvalidArgumentError("event needs an id and a type");
  }
  if (json.contains("data") && json["data"].is_object() && json["data"].contains("object")) {
    const nlohmann::json& object = json["data"]["object"];
    event.payment_intent = JsonString(object, "payment_intent");
    if (event.payment_intent.empty() && JsonString(object, "object") == "payment_intent") {
      event.payment_intent = JsonString(object, "id");
    }
    if (object.is_object() && object.contains("metadata")) {
      event.order_id = JsonString(object["metadata"], "order_id");
    }
    event.detail = JsonString(object, "reason");
    if (event.detail.empty()) event.detail = JsonString(object, "status");
  }
  return event;
}

WebhookResult HandleWebhook(WebhookSink& sink, absl::string_view secret,
                            absl::string_view signature_header, absl::string_view body,
                            absl::Time now, absl::Duration tolerance) {
  if (absl::Status verified =
          VerifyWebhookSignature(secret, signature_header, body, now, tolerance);
      !verified.ok()) {
    log::Warn("webhook refused", {{"reason", std::string(verified.message())}});
    return {400, std::string(verified.message())};
  }
  absl::StatusOr<WebhookEvent> event = ParseWebhookEvent(body);
  if (!event.ok()) return {400, std::string(event.status().message())};
  absl::StatusOr<bool> pending = sink.RecordOnce(*event, body);
  if (!pending.ok()) return {500, "could not record the event; send it again"};
  if (!*pending) return {200, "duplicate event; already applied"};
  if (!event->order_id.empty()) {
    if (absl::Status forwarded = sink.Forward(*event); !forwarded.ok()) {
      // Not acknowledged: the gateway sends it again and we forward again.
      log::Error("webhook not forwarded to ops",
                 {{"event_id", event->event_id}, {"error", std::string(forwarded.message())}});
      return {503, "could not forward the event; send it again"};
    }
  }
  if (!sink.MarkForwarded(event->event_id).ok()) {
    return {500, "could not record the event; send it again"};
  }
  log::Info("webhook applied",
            {{"event_id", event->event_id}, {"type", event->type}, {"order_id", event->order_id}});
  return {200, "ok"};
}

}  // namespace shop::payments
