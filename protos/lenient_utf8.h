// Force-included into the generated *.pb.cc files (see CMakeLists.txt).
//
// Protobuf refuses a proto3 string holding invalid UTF-8 while parsing, and
// gRPC then answers INTERNAL before any service code runs; the caller never
// learns which field was wrong. The build therefore rewrites the generated
// parser's UTF-8 check to accept, and every service validates its input
// instead (core/validation.h: free text must be valid UTF-8, ids printable
// ASCII), answering INVALID_ARGUMENT with a google.rpc.BadRequest naming the
// field. Nothing unvalidated is stored: every RPC validates before writing.
#ifndef SHOP_PROTOS_LENIENT_UTF8_H_
#define SHOP_PROTOS_LENIENT_UTF8_H_

#include <string>

inline bool ShopAcceptUtf8(const std::string*, const char*) { return true; }

#endif  // SHOP_PROTOS_LENIENT_UTF8_H_
