// Versioned SQL migrations, applied in order at start under a PostgreSQL
// advisory lock, so that two replicas starting at once apply each migration
// exactly once. Each migration runs in its own transaction with its record in
// schema_migrations; an applied migration whose text changed is an error.
#ifndef SHOP_CORE_MIGRATE_H_
#define SHOP_CORE_MIGRATE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shop {

struct Migration {
  int version;
  absl::string_view name;
  absl::string_view sql;
};

// Applied through PostgresPool::Migrate (core/postgres/pool.h).

}  // namespace shop

#endif  // SHOP_CORE_MIGRATE_H_
