#include "services/bridge/backends.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace shop::bridge {
namespace {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

bool FromByteBuffer(const grpc::ByteBuffer& buffer, std::string* out) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  out->clear();
  for (const grpc::Slice& slice : slices) {
    out->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return true;
}

HeaderList ToHeaderList(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  HeaderList out;
  for (const auto& [key, value] : metadata) {
    out.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return out;
}

}  // namespace

absl::StatusOr<BackendSpec> ParseBackendSpec(const std::vector<std::string>& entries,
                                             const std::string& default_address) {
  BackendSpec spec;
  spec.default_address = std::string(absl::StripAsciiWhitespace(default_address));
  for (const std::string& entry : entries) {
    for (absl::string_view item : absl::StrSplit(entry, ',', absl::SkipWhitespace())) {
      item = absl::StripAsciiWhitespace(item);
      const size_t eq = item.find('=');
      if (eq == absl::string_view::npos || eq == 0 || eq + 1 == item.size()) {
        return absl::InvalidArgumentError(absl::StrCat("bad --backend entry \"", item,
                                                       "\": expected Service=host:port, e.g. "
                                                       "shop.v1.CustomerService=localhost:7001"));
      }
      const std::string service(item.substr(0, eq));
      if (!spec.by_service.emplace(service, std::string(item.substr(eq + 1))).second) {
        return absl::InvalidArgumentError(absl::StrCat("--backend names ", service, " twice"));
      }
    }
  }
  return spec;
}

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(const BackendSpec& spec,
                                                           const std::vector<std::string>& services,
                                                           const ChannelFactory& factory) {
  std::unique_ptr<Backends> backends(new Backends);
  std::map<std::string, std::shared_ptr<grpc::Channel>> by_address;
  std::vector<std::string> missing;
  for (const std::string& service : services) {
    auto it = spec.by_service.find(service);
    const std::string address = it != spec.by_service.end() ? it->second : spec.default_address;
    if (address.empty()) {
      missing.push_back(service);
      continue;
    }
    auto& channel = by_address[address];
    if (channel == nullptr) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> made = factory(address);
      if (!made.ok()) {
        return absl::Status(made.status().code(),
                            absl::StrCat("backend ", address, ": ", made.status().message()));
      }
      channel = *std::move(made);
    }
    backends->channels_[service] = channel;
  }
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no backend address for ", absl::StrJoin(missing, ", "),
                     ": set --backend=Service=host:port or --default_backend"));
  }
  return backends;
}

std::shared_ptr<grpc::Channel> Backends::ChannelFor(const std::string& service) const {
  auto it = channels_.find(service);
  return it == channels_.end() ? nullptr : it->second;
}

void ActiveCalls::Add(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  calls_.insert(ctx);
}

void ActiveCalls::Remove(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  calls_.erase(ctx);
}

int ActiveCalls::count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(calls_.size());
}

bool ActiveCalls::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return calls_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

void ActiveCalls::CancelAll() {
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
}

BackendCall::BackendCall(std::shared_ptr<grpc::Channel> channel, std::string method,
                         const OutgoingCall& outgoing, ActiveCalls* active)
    : stub_(std::move(channel)), method_(std::move(method)), active_(active) {
  for (const auto& [key, value] : outgoing.metadata) ctx_.AddMetadata(key, value);
  ctx_.set_deadline(absl::ToChronoTime(absl::Now() + outgoing.timeout));
  if (active_ != nullptr) active_->Add(&ctx_);
}

BackendCall::~BackendCall() {
  if (stream_ != nullptr && !finished_) {
    ctx_.TryCancel();
    Finish();
  }
  if (active_ != nullptr) active_->Remove(&ctx_);
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

bool BackendCall::Wait() {
  void* tag = nullptr;
  bool ok = false;
  if (!cq_.Next(&tag, &ok)) return false;
  return ok;
}

grpc::Status BackendCall::Unary(const std::string& request, std::string* response) {
  auto call = stub_.PrepareUnaryCall(&ctx_, method_, ToByteBuffer(request), &cq_);
  call->StartCall();
  grpc::ByteBuffer buffer;
  grpc::Status status;
  call->Finish(&buffer, &status, this);
  Wait();
  metadata_ready_ = true;
  if (status.ok() && !FromByteBuffer(buffer, response)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the backend's response");
  }
  return status;
}

void BackendCall::StartStream(const std::string& request) {
  stream_ = stub_.PrepareCall(&ctx_, method_, &cq_);
  stream_->StartCall(this);
  stream_ok_ = Wait();
  if (!stream_ok_) return;
  stream_->WriteLast(ToByteBuffer(request), grpc::WriteOptions(), this);
  stream_ok_ = Wait();
}

bool BackendCall::Read(std::string* message) {
  if (!stream_ok_) return false;
  grpc::ByteBuffer buffer;
  stream_->Read(&buffer, this);
  stream_ok_ = Wait();
  metadata_ready_ |= stream_ok_;
  if (stream_ok_ && !FromByteBuffer(buffer, message)) {
    ctx_.TryCancel();
    stream_ok_ = false;
  }
  return stream_ok_;
}

grpc::Status BackendCall::Finish() {
  if (finished_) return status_;
  finished_ = true;
  stream_->Finish(&status_, this);
  Wait();
  metadata_ready_ = true;
  return status_;
}

HeaderList BackendCall::InitialMetadata() const {
  return metadata_ready_ ? ToHeaderList(ctx_.GetServerInitialMetadata()) : HeaderList{};
}

HeaderList BackendCall::TrailingMetadata() const {
  return finished_ || stream_ == nullptr ? ToHeaderList(ctx_.GetServerTrailingMetadata())
                                         : HeaderList{};
}

}  // namespace shop::bridge
