#include "services/pg-adapter/curl_gateway_client.h"

#include <curl/curl.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shop::payments {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* out) {
  absl::string_view line(data, size * count);
  constexpr absl::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size() &&
      absl::EqualsIgnoreCase(line.substr(0, kRetryAfter.size()), kRetryAfter)) {
    int64_t seconds;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(kRetryAfter.size())), &seconds)) {
      *static_cast<int64_t*>(out) = seconds;
    }
  }
  return size * count;
}

std::string Encode(CURL* curl, const std::string& text) {
  char* escaped = curl_easy_escape(curl, text.data(), static_cast<int>(text.size()));
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CurlGatewayClient>> CurlGatewayClient::Create(
    CurlGatewayClientOptions options) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) return absl::InternalError("curl_global_init failed");
  if (!absl::StartsWith(options.base_url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("gateway URL must be https://, got \"", options.base_url, "\""));
  }
  if (options.ca_file.empty()) return absl::InvalidArgumentError("gateway CA file is required");
  if (options.api_key.empty()) return absl::InvalidArgumentError("gateway API key is required");
  return std::unique_ptr<CurlGatewayClient>(new CurlGatewayClient(std::move(options)));
}

CurlGatewayClient::~CurlGatewayClient() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* CurlGatewayClient::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlGatewayClient::Release(void* handle) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(handle);  // keeps its connection open for reuse
}

GatewayResponse CurlGatewayClient::Send(const GatewayRequest& request, absl::Duration timeout) {
  GatewayResponse response;
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  curl_easy_reset(curl);
  std::string url = options_.base_url + request.path;
  std::string body;
  for (const auto& [key, value] : request.form) {
    if (!body.empty()) body += '&';
    absl::StrAppend(&body, Encode(curl, key), "=", Encode(curl, value));
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Authorization: Bearer " + options_.api_key).c_str());
  if (!request.idempotency_key.empty()) {
    headers = curl_slist_append(headers, ("Idempotency-Key: " + request.idempotency_key).c_str());
  }
  for (const std::string& header : request.extra_headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  if (!request.json_body.empty()) {
    body = request.json_body;
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(std::min(options_.connect_timeout, timeout))));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout))));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.retry_after_seconds);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    response.transport_error = error[0] != 0 ? error : curl_easy_strerror(code);
    response.not_sent = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                        code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION;
    response.body.clear();
  } else {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.http_status = static_cast<int>(status);
  }
  curl_slist_free_all(headers);
  Release(curl);
  return response;
}

}  // namespace shop::payments
