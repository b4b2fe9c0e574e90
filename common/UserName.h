#pragma once

#include <string>
#include <string_view>

namespace peerchat {

/// The rules for a user name: 1 to 32 bytes of valid UTF-8 with no ',' ';' ':',
/// no whitespace (ASCII or Unicode) and no control characters. "天涯" is fine.
class UserName
{
public:
    static constexpr std::size_t kMaxBytes = 32;

    /// Empty when name is acceptable, else why it is not ("name is empty").
    static std::string check(std::string_view name);

    static bool isValid(std::string_view name) { return check(name).empty(); }
};

} // namespace peerchat
