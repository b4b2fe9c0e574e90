#pragma once

#include <string>

namespace peerchat::test {

/// The path of a system program (tcpdump, ip, nft, ...) on the usual paths,
/// so that tests find it with a minimal PATH too. Fails the test, saying what
/// to do, when it is not installed: `make deps` installs debianPackage.
std::string systemProgram(const std::string& name, const std::string& debianPackage);

} // namespace peerchat::test
