# Run with cmake -P: rewrites the UTF-8 check of a generated parser (FILE) to
# the accepting one of protos/lenient_utf8.h. Stops the build if another
# form of the check remains (a protobuf upgrade must look at this again).
file(READ "${FILE}" text)
string(REPLACE "::_pbi::VerifyUTF8(" "ShopAcceptUtf8(" text "${text}")
if(text MATCHES "VerifyUTF8")
  message(FATAL_ERROR "${FILE}: unexpected UTF-8 check left; see protos/lenient_utf8.h")
endif()
file(WRITE "${FILE}" "${text}")
