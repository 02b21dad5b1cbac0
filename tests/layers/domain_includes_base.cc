// Must build: what a domain may use (the control for the probes that must fail).
#include "core/money.h"
#include "core/span.h"
#include "core/status.h"
#include "shop/v1/types.pb.h"

int main() { return shop::v1::Money().units() == 0 ? 0 : 1; }
