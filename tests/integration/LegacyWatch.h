#pragma once

// What the legacy compatibility tests (SeedCompatTest, DotNetCompatTest)
// read off a seed client's socket and off a peerd's roster.
#include "LocalClient.h"
#include "SeedClient.h"

#include <Poco/JSON/Array.h>

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

namespace peerchat::test {

/// The datagrams client receives before the first that starts with marker
/// (which must come): indexd writes to a client in order, so what it would
/// have announced before the marker is among them.
inline std::vector<std::string> receiveUntil(SeedClient& client, const std::string& marker)
{
    std::vector<std::string> before;
    while (true) {
        const auto datagram = client.receive();
        CPPUNIT_ASSERT_MESSAGE("no datagram starting with " + marker + " came", datagram);
        if (datagram->rfind(marker, 0) == 0) return before;
        before.push_back(*datagram);
    }
}

/// True when a datagram in datagrams starts with prefix.
inline bool anyStartsWith(const std::vector<std::string>& datagrams, const std::string& prefix)
{
    for (const auto& datagram : datagrams) {
        if (datagram.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

/// True when the roster peerd reports to client lists name in field (`users`,
/// online users as objects; `held`, names whose lines are held as requests)
/// and not among the contacts: a stranger.
inline bool listedAsStranger(LocalClient& client, const std::string& name, const std::string& field)
{
    client.sendLine(R"({"op":"roster"})");
    const auto roster = client.waitEvent("roster");
    CPPUNIT_ASSERT_MESSAGE("no roster event", roster);
    const auto contacts = roster->getArray("contacts");
    for (std::size_t i = 0; i < contacts->size(); ++i) {
        if (contacts->getObject(i)->getValue<std::string>("name") == name) return false;
    }
    const auto listed = roster->getArray(field);
    for (std::size_t i = 0; i < listed->size(); ++i) {
        const std::string entry =
            field == "users" ? listed->getObject(i)->getValue<std::string>("name") : listed->getElement<std::string>(i);
        if (entry == name) return true;
    }
    return false;
}

/// True when name's lines are held as requests by client's peerd, not a contact's.
inline bool heldAsRequest(LocalClient& client, const std::string& name)
{
    return listedAsStranger(client, name, "held");
}

/// True when client's peerd sees name online, not as a contact.
inline bool onlineAsStranger(LocalClient& client, const std::string& name)
{
    return listedAsStranger(client, name, "users");
}

} // namespace peerchat::test
