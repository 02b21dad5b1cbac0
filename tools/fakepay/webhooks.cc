#include "tools/fakepay/webhooks.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fakepay {

using OJson = nlohmann::ordered_json;

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digest_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size_t{2} * digest_len);
  for (unsigned int i = 0; i < digest_len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string WebhookSignature(absl::string_view secret, int64_t timestamp, absl::string_view body) {
  return absl::StrCat("t=", timestamp,
                      ",v1=", HmacSha256Hex(secret, absl::StrCat(timestamp, ".", body)));
}

absl::Duration WebhookBackoff(int retry, absl::Duration initial, absl::Duration max) {
  absl::Duration backoff = initial;
  for (int i = 1; i < retry && backoff < max; ++i) backoff *= 2;
  return std::min(backoff, max);
}

WebhookSender::WebhookSender(WebhookOptions options)
    : options_(std::move(options)), thread_([this] { Run(); }) {}

WebhookSender::~WebhookSender() { Stop(); }

void WebhookSender::Log(absl::string_view level, absl::string_view msg, const OJson& fields) const {
  if (options_.log) options_.log(level, msg, fields);
}

void WebhookSender::Enqueue(const Event& event) {
  {
    absl::MutexLock lock(&mu_);
    Delivery delivery;
    delivery.event_id = event.id;
    delivery.type = event.type;
    if (queue_.size() >= options_.max_queue) {
      ++dropped_;
      delivery.status = "failed";
      deliveries_.push_back(std::move(delivery));
      Log("warning", "webhook queue full; event dropped",
          {{"event_id", event.id}, {"type", event.type}, {"dropped_total", dropped_}});
      return;
    }
    deliveries_.push_back(std::move(delivery));
    queue_.push_back({deliveries_.size() - 1, event.body});
  }
}

void WebhookSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  if (!queue_.empty() || dropped_ > 0) {
    Log("warning", "webhooks not delivered", {{"pending", queue_.size()}, {"dropped", dropped_}});
  }
}

std::string WebhookSender::DeliveriesJson() const {
  absl::MutexLock lock(&mu_);
  OJson list = OJson::array();
  for (const Delivery& d : deliveries_) {
    list.push_back(
        {{"event_id", d.event_id},
         {"type", d.type},
         {"status", d.status},
         {"attempts", d.attempts},
         {"last_http_status", d.last_http_status ? OJson(d.last_http_status) : OJson()}});
  }
  return OJson{{"deliveries", list}, {"dropped", dropped_}}.dump();
}

namespace {

size_t DiscardBody(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

// Aborts a transfer in flight once the sender is stopping.
int AbortWhenStopping(void* stopping, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(stopping)->load() ? 1 : 0;
}

}  // namespace

long WebhookSender::Attempt(const std::string& body, std::string* error) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    *error = "curl_easy_init failed";
    return 0;
  }
  const std::string signature = absl::StrCat(
      "Stripe-Signature: ",
      WebhookSignature(options_.secret, static_cast<int64_t>(std::time(nullptr)), body));
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, signature.c_str());
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "User-Agent: fakepay-webhooks/1.0");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, &curl_slist_free_all);
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &DiscardBody);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &AbortWhenStopping);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &stopping_);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    *error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

void WebhookSender::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(this, &WebhookSender::WorkOrStopLocked));
    if (stopping_) return;
    const Queued item = queue_.front();
    const std::string event_id = deliveries_[item.index].event_id;
    const std::string type = deliveries_[item.index].type;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      if (attempt > 1) {
        const absl::Duration backoff =
            WebhookBackoff(attempt - 1, options_.initial_backoff, options_.max_backoff);
        mu_.AwaitWithTimeout(absl::Condition(this, &WebhookSender::StoppingLocked), backoff);
        if (stopping_) return;  // The event stays pending.
      }
      mu_.Unlock();  // no lock held across the HTTP attempt
      std::string error;
      const long status = Attempt(item.body, &error);
      mu_.Lock();
      if (stopping_ && status == 0) return;  // Aborted by Stop().
      Delivery& d = deliveries_[item.index];
      d.attempts = attempt;
      if (status != 0) d.last_http_status = status;
      const bool ok = status >= 200 && status < 300;
      const bool rejected = status == 400;
      const bool last = ok || rejected || attempt == options_.max_attempts;
      if (ok) d.status = "delivered";
      if (!ok && last) d.status = "failed";
      OJson fields = {{"event_id", event_id},
                      {"type", type},
                      {"attempt", attempt},
                      {"status", status != 0 ? OJson(status) : OJson()}};
      if (!error.empty()) fields["error"] = error;
      fields["outcome"] = ok         ? "delivered"
                          : rejected ? "rejected"
                          : last     ? "gave_up"
                                     : "will_retry";
      Log(ok ? "info" : "warning", "webhook attempt", fields);
      if (last) break;
    }
    queue_.pop_front();
  }
}

}  // namespace fakepay
