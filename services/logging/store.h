// PostgreSQL persistence of the audit log (append-only table).
#ifndef SHOP_SERVICES_LOGGING_STORE_H_
#define SHOP_SERVICES_LOGGING_STORE_H_

#include "services/logging/audit_log.h"

namespace shop {
class PgPool;
}

namespace shop::logging {

class PgAuditStore final : public AuditStore {
 public:
  explicit PgAuditStore(PgPool* pool) : pool_(pool) {}
  absl::Status Prepare();
  absl::StatusOr<AppendResult> Append(const std::vector<shop::v1::AuditEvent>& events) override;
  absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& filter) override;

 private:
  PgPool* pool_;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_STORE_H_
