// Must not build: a domain source that includes libpqxx.
#include <pqxx/pqxx>

int main() { return 0; }
