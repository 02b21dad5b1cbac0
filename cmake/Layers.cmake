# Layers that the build enforces (docs/architecture.md, "Layers").
#
# Domain code (core's base library and every service's <svc>_domain target)
# decides and returns absl::Status; it knows nothing of gRPC or PostgreSQL.
# Those headers live in the system include directory, which every target can
# reach, so a convention alone would not hold. Instead, at configure time we
# write a shadow of every gRPC and libpqxx header into the build tree, each
# one an #error, and put that directory first on the include path of domain
# targets only: a domain source that includes <grpcpp/...>, <grpc/...> or
# <pqxx/...> (directly or through another header, such as a generated
# *.grpc.pb.h) stops the build with a message naming the rule.

find_path(SHOP_GRPCPP_INCLUDE_DIR grpcpp/grpcpp.h)
find_path(SHOP_PQXX_INCLUDE_DIR pqxx/pqxx)
if(NOT SHOP_GRPCPP_INCLUDE_DIR OR NOT SHOP_PQXX_INCLUDE_DIR)
  message(FATAL_ERROR "gRPC or libpqxx headers not found (needed to fence the domain layer)")
endif()

set(SHOP_DOMAIN_FENCE_DIR "${CMAKE_BINARY_DIR}/layer-fence/domain")
set(_shop_fence_stamp "${SHOP_DOMAIN_FENCE_DIR}/.written-from")
set(_shop_fence_key "${SHOP_GRPCPP_INCLUDE_DIR};${SHOP_PQXX_INCLUDE_DIR}")
set(_shop_fence_old "")
if(EXISTS "${_shop_fence_stamp}")
  file(READ "${_shop_fence_stamp}" _shop_fence_old)
endif()
if(NOT _shop_fence_old STREQUAL _shop_fence_key)
  file(REMOVE_RECURSE "${SHOP_DOMAIN_FENCE_DIR}")
  foreach(pair "grpcpp;${SHOP_GRPCPP_INCLUDE_DIR}" "grpc;${SHOP_GRPCPP_INCLUDE_DIR}"
               "grpc++;${SHOP_GRPCPP_INCLUDE_DIR}" "pqxx;${SHOP_PQXX_INCLUDE_DIR}")
    list(GET pair 0 top)
    list(GET pair 1 root)
    if(NOT IS_DIRECTORY "${root}/${top}")
      continue()
    endif()
    file(GLOB_RECURSE headers RELATIVE "${root}" "${root}/${top}/*")
    foreach(header ${headers})
      file(WRITE "${SHOP_DOMAIN_FENCE_DIR}/${header}"
           "#error \"layering: domain code must not include gRPC or libpqxx (<${header}>); "
           "this belongs in the service's grpc or store target (docs/architecture.md, Layers)\"\n")
    endforeach()
  endforeach()
  file(WRITE "${_shop_fence_stamp}" "${_shop_fence_key}")
endif()

# shop_domain_layer(<target>): the target's own sources may not include gRPC
# or libpqxx headers; it must not link them either.
function(shop_domain_layer target)
  target_include_directories(${target} BEFORE PRIVATE "${SHOP_DOMAIN_FENCE_DIR}")
endfunction()
