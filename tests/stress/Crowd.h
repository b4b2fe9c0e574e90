#pragma once

#include "ChatNetwork.h"
#include "SecureClient.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace peerchat::stress {

/// Many peerchat/3 users logged in to one indexd at once: SecureClients
/// spread over the source addresses 127.10.X.Y, a few per address, so their
/// own logins stay under indexd's per-address login rate. They read what
/// indexd sends them only when asked (heardOf), and send no heartbeats: run
/// indexd with an --expire-ms longer than the scenario.
class Crowd
{
public:
    /// What the users heard from indexd about one subject: the `here` and
    /// `gone` inside the bundles, and the datagrams that held any.
    struct Heard
    {
        std::uint64_t here = 0;
        std::uint64_t gone = 0;
        std::uint64_t datagrams = 0;
    };

    /// Logs in count users named PREFIXN to net's indexd, perAddress per
    /// source address; throws when fewer than all of them get in.
    Crowd(test::ChatNetwork& net, const std::string& prefix, std::size_t count, std::size_t perAddress = 10);

    std::size_t size() const { return _users.size(); }
    /// How long the logins took, in seconds.
    double loginSeconds() const { return _loginSeconds; }
    /// The users' names, in the order they logged in.
    std::vector<std::string> names() const;

    /// Every user declares contacts as its contact list, and its answer
    /// (`declared`, then a snapshot) is read; throws when a user gets no
    /// snapshot.
    void declare(const std::vector<std::string>& contacts);
    /// Reads what has arrived at every user (without waiting) and counts
    /// what indexd said about subject.
    Heard heardOf(const std::string& subject);

    /// A SecureClient for name on bindHost, logged in to net's indexd, which it takes only with net's key.
    static std::unique_ptr<test::SecureClient> logIn(test::ChatNetwork& net, const std::string& name,
                                                     const std::string& bindHost = "127.0.0.1");

private:
    std::vector<std::unique_ptr<test::SecureClient>> _users;
    double _loginSeconds = 0;
};

} // namespace peerchat::stress
