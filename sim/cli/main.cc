// hooksim's entry point; everything else lives in sim/cli/cli.cc.
#include <iostream>

#include "sim/cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return hooksim::RunCli(argc, argv, std::cin, std::cout, std::cerr);
}
