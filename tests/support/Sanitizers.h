#pragma once

#include <map>
#include <string>

namespace peerchat::test {

/// True in a build with AddressSanitizer and UBSan (make check-asan).
inline constexpr bool kSanitized = PEERCHAT_SANITIZED;

/// The environment for a daemon whose resident memory a test measures. Under
/// AddressSanitizer (make check-asan) freed memory waits in a quarantine of
/// 256 MiB, so a peak of RSS would measure the sanitizer rather than the
/// daemon: this keeps the quarantine small. Other tests keep the whole
/// quarantine. Empty in a build without sanitizers.
std::map<std::string, std::string> environmentForMemoryMeasurement();

} // namespace peerchat::test
