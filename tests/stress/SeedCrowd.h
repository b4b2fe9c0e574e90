#pragma once

#include "ChatNetwork.h"
#include "SeedClient.h"

#include <memory>
#include <string>
#include <vector>

namespace peerchat::stress {

/// Many seed users logged in to one legacy-mode indexd at once, as the seed
/// logs in (SeedClient::login: `login,NAME,EP`, the Accept, and a roster
/// connection from the user's address, which puts the login online), all
/// from 127.0.0.1: run indexd with login rates high enough for that, and an
/// --expire-ms longer than the scenario. Their names are padded to
/// kNameBytes, so the seed roster of count users is about 49 bytes apiece.
class SeedCrowd
{
public:
    /// The length of every name.
    static constexpr std::size_t kNameBytes = 32;

    /// Logs in count seed users named PREFIX000...N (kNameBytes long) to
    /// net's indexd, one after another; throws when one gets no Accept.
    SeedCrowd(test::ChatNetwork& net, const std::string& prefix, std::size_t count);

    std::size_t size() const { return _users.size(); }
    /// How long the logins took, in seconds.
    double loginSeconds() const { return _loginSeconds; }

private:
    std::vector<std::unique_ptr<test::SeedClient>> _users;
    double _loginSeconds = 0;
};

} // namespace peerchat::stress
