// Must not build: a generated gRPC stub header pulls gRPC into a domain source.
#include "shop/ops/v1/ops.grpc.pb.h"

int main() { return 0; }
