#include <iostream>
int main() {
  std::cerr << "hooksim: under construction\n";
  return 2;
}
