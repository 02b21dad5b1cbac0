// Must not build: a domain source that includes gRPC (tests/layers/CMakeLists.txt).
#include <grpcpp/grpcpp.h>

int main() { return 0; }
