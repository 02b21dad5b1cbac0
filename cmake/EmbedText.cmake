# Run with cmake -P: writes OUT, a C++ source returning FILE's text.
file(READ "${FILE}" text)
set(body "// Generated from ${FILE} by cmake/EmbedText.cmake. Do not edit.\n")
string(APPEND body "#include \"absl/strings/string_view.h\"\n\nnamespace ${NAMESPACE} {\n\n")
string(APPEND body "absl::string_view ${FUNCTION}() {\n  return R\"shoptext(${text})shoptext\";\n}\n\n")
string(APPEND body "}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
