#pragma once

#include "DaemonProcess.h"
#include "LocalClient.h"
#include "TempDir.h"
#include "Wait.h"

#include <Poco/JSON/Array.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace peerchat::test {

/// Where a daemon of a ChatNetwork runs: through launcher (empty: right
/// here; NetLab::commandIn: in a lab host's namespace), its sockets bound to
/// bind (--bind). Local sockets and files are shared across namespaces.
struct Placement
{
    std::vector<std::string> launcher{};
    std::string bind = "127.0.0.1";
};

/// A private peerchat network for one test: a real indexd and real peerds,
/// on loopback or each in a host of the NAT lab (Placement), each peerd with
/// its local socket, database and key file in a private directory, and each
/// told indexd's key (--index-key) as a careful user would configure it.
/// Every process is killed and reaped when the network goes away.
class ChatNetwork
{
public:
    /// Secure: peerchat/2 only, as shipped. Legacy: indexd and every peerd
    /// also speak the seed's plain protocol (--legacy), for seed and .NET clients.
    enum class Wire { Secure, Legacy };

    /// indexdFlags come last on indexd's command line (and again at each
    /// restart); indexd runs at indexPlacement.
    explicit ChatNetwork(Wire wire = Wire::Secure, std::vector<std::string> indexdFlags = {},
                         Placement indexPlacement = {})
        : _wire(wire), _indexdFlags(std::move(indexdFlags)), _indexPlacement(std::move(indexPlacement))
    {
        startIndexd("0", _dir.file("indexd.db"));
    }

    /// indexd's UDP endpoint, "127.0.0.1:PORT" (its Placement's bind address).
    std::string index() const { return _indexReady.at("udp"); }
    /// indexd's identity key in base64, as its ready line gives it.
    std::string indexKey() const { return _indexReady.at("identity"); }
    /// The TCP port of one of indexd's rosters: "seed-roster", "dotnet-roster".
    int rosterPort(const std::string& which) const { return std::stoi(_indexReady.at(which)); }

    /// The local socket path peerd for user gets from startPeerd.
    std::string socketOf(const std::string& user) const { return _dir.file(user + ".sock"); }
    /// The database peerd for user gets from startPeerd, private to this network.
    std::string databaseOf(const std::string& user) const { return _dir.file(user + ".db"); }
    /// The identity key file peerd for user gets from startPeerd: a restarted peerd is the same user.
    std::string keyOf(const std::string& user) const { return _dir.file(user + ".key"); }

    /// Makes user's peerd, from its next start on, run at placement (on
    /// loopback until then).
    void place(const std::string& user, Placement placement) { _placements[user] = std::move(placement); }

    /// A peerd for user at its Placement with its socket at socketOf(user), its
    /// database at databaseOf(user) and its key at keyOf(user), not yet
    /// started; extra flags come last and win, env is set on top of the test's.
    std::unique_ptr<DaemonProcess> peerdProcess(const std::string& user, std::vector<std::string> extra = {},
                                                std::map<std::string, std::string> env = {}) const
    {
        const auto placed = _placements.find(user);
        const Placement placement = placed == _placements.end() ? Placement{} : placed->second;
        std::vector<std::string> args{"--user", user, "--index", index(), "--index-key", indexKey(), "--port", "0",
                                      "--bind", placement.bind, "--socket", socketOf(user), "--database",
                                      databaseOf(user), "--key", keyOf(user)};
        if (_wire == Wire::Legacy) args.push_back("--legacy");
        args.insert(args.end(), extra.begin(), extra.end());
        auto process = std::make_unique<DaemonProcess>("peerd", args, std::move(env));
        process->setCommandPrefix(placement.launcher);
        return process;
    }

    /// Starts peerd for user (with extra flags and env, see peerdProcess) and waits for
    /// its readiness line. A peerd started earlier for user, which must have
    /// exited by now, is replaced: this is how a test restarts one.
    DaemonProcess& startPeerd(const std::string& user, std::vector<std::string> extra = {},
                              std::map<std::string, std::string> env = {})
    {
        auto process = peerdProcess(user, std::move(extra), std::move(env));
        process->start();
        _peerdReady[user] = process->waitReady();
        DaemonProcess& started = *process;
        _peerds[user] = std::move(process);
        return started;
    }

    DaemonProcess& peerd(const std::string& user) { return *_peerds.at(user); }
    /// The UDP endpoint peerd for user logged in from, "127.0.0.1:PORT" (its Placement's bind address).
    std::string udpOf(const std::string& user) const { return _peerdReady.at(user).at("udp"); }

    /// A client attached to user's peerd whose welcome has been taken.
    std::unique_ptr<LocalClient> attach(const std::string& user)
    {
        return attach(user, false);
    }

    /// A client attached to user's peerd once that peerd is logged in to indexd and has its roster.
    std::unique_ptr<LocalClient> attachOnline(const std::string& user)
    {
        return attach(user, true);
    }

    DaemonProcess& indexd() { return *_indexd; }
    /// The SQLite file indexd runs on now.
    const std::string& indexDatabase() const { return _indexDatabase; }

    /// Kills indexd (SIGKILL) and starts a new one on the same UDP port with
    /// the same key. With freshDatabase it starts on a new, empty database:
    /// it has forgotten which key each name first logged in with, as a reset
    /// or malicious indexd would have.
    void restartIndexd(bool freshDatabase)
    {
        _indexd->signal(SIGKILL);
        CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, _indexd->waitExit());
        const std::string udp = index();
        const std::string database =
            freshDatabase ? _dir.file("indexd-" + std::to_string(++_databases) + ".db") : _indexDatabase;
        startIndexd(udp.substr(udp.rfind(':') + 1), database);
    }

private:
    void startIndexd(const std::string& port, const std::string& database)
    {
        std::vector<std::string> args{"--port", port, "--bind", _indexPlacement.bind, "--database", database, "--key",
                                      _dir.file("indexd.key")};
        if (_wire == Wire::Legacy) args.push_back("--legacy");
        args.insert(args.end(), _indexdFlags.begin(), _indexdFlags.end());
        _indexd = std::make_unique<DaemonProcess>("indexd", args);
        _indexd->setCommandPrefix(_indexPlacement.launcher);
        _indexd->start();
        _indexReady = _indexd->waitReady();
        _indexDatabase = database;
    }

    std::unique_ptr<LocalClient> attach(const std::string& user, bool online)
    {
        auto client = std::make_unique<LocalClient>(socketOf(user));
        const auto welcome = client->waitEvent("welcome");
        CPPUNIT_ASSERT_MESSAGE("no welcome from peerd for " + user, welcome);
        CPPUNIT_ASSERT_EQUAL(user, welcome->getValue<std::string>("self"));
        if (online && welcome->getValue<std::string>("state") != "online") {
            CPPUNIT_ASSERT_MESSAGE("peerd for " + user + " did not get online:\n" + peerd(user).log(),
                                   client->waitFor([](const auto& event) {
                                       return event->template optValue<std::string>("event", "") == "state" &&
                                              event->template getValue<std::string>("state") == "online";
                                   }));
        }
        return client;
    }

    Wire _wire;
    std::vector<std::string> _indexdFlags;
    Placement _indexPlacement;
    std::map<std::string, Placement> _placements;
    TempDir _dir;
    std::unique_ptr<DaemonProcess> _indexd;
    DaemonProcess::Fields _indexReady;
    std::string _indexDatabase;
    int _databases = 0;
    std::map<std::string, std::unique_ptr<DaemonProcess>> _peerds;
    std::map<std::string, DaemonProcess::Fields> _peerdReady;
};

/// A send request line: text goes to to.
inline std::string sendRequest(const std::string& to, const std::string& text)
{
    return R"({"op":"send","to":")" + to + R"(","text":")" + text + R"("})";
}

/// A request line naming a peer: subscribe, unsubscribe or read.
inline std::string peerRequest(const std::string& op, const std::string& peer)
{
    return R"({"op":")" + op + R"(","peer":")" + peer + R"("})";
}

/// True when datagram is exactly the talk a peerd for from sends with text:
/// `talk,HH:MM:SS,FROM,TEXT` with a 24-hour time.
inline bool isPeerdTalk(const std::string& datagram, const std::string& from, const std::string& text)
{
    const std::size_t timeEnd = std::string("talk,HH:MM:SS").size();
    return datagram.size() > timeEnd &&
           std::regex_match(datagram.substr(0, timeEnd), std::regex("talk,[0-2][0-9]:[0-5][0-9]:[0-5][0-9]")) &&
           datagram.substr(timeEnd) == "," + from + "," + text;
}

/// Subscribes client to its conversation with peer (message events follow) and takes the history reply.
inline void subscribeTo(LocalClient& client, const std::string& peer)
{
    client.sendLine(peerRequest("subscribe", peer));
    CPPUNIT_ASSERT_MESSAGE("no history for " + peer, client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == "history" && event->getValue<std::string>("peer") == peer;
    }));
}

/// The users (name, endpoint, ...) in the roster peerd reports to client right now.
inline Poco::JSON::Array::Ptr rosterUsers(LocalClient& client)
{
    client.sendLine(R"({"op":"roster"})");
    const auto roster = client.waitEvent("roster");
    CPPUNIT_ASSERT_MESSAGE("no roster event", roster);
    return roster->getArray("users");
}

/// The names in the roster peerd reports to client right now.
inline std::vector<std::string> rosterNames(LocalClient& client)
{
    std::vector<std::string> names;
    const auto users = rosterUsers(client);
    for (std::size_t i = 0; i < users->size(); ++i) names.push_back(users->getObject(i)->getValue<std::string>("name"));
    return names;
}

/// Waits until name is in the roster peerd reports to client.
inline bool waitInRoster(LocalClient& client, const std::string& name)
{
    return waitUntil([&] {
        const auto names = rosterNames(client);
        return std::find(names.begin(), names.end(), name) != names.end();
    });
}

/// The next message event on client whose line has text; nullptr on timeout.
inline LocalClient::Object waitMessage(LocalClient& client, const std::string& text,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    return client.waitFor(
        [&](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "message" &&
                   event->getObject("line")->getValue<std::string>("text") == text;
        },
        timeout);
}

/// The next presence event on client about user going online (or offline); nullptr on timeout.
inline LocalClient::Object waitPresence(LocalClient& client, const std::string& user, bool online,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    return client.waitFor(
        [&](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "presence" &&
                   event->getObject("user")->getValue<std::string>("name") == user &&
                   event->getValue<bool>("online") == online;
        },
        timeout);
}

/// Makes the users behind a and b contacts, as two people would: each adds
/// the other (the requests cross, and each is taken as an acceptance), and
/// waits until each sees the other online. peerchat users see only their
/// contacts online, so every test that chats over a path between two
/// peerds starts here. False when they do not see each other in time.
inline bool befriend(LocalClient& a, const std::string& aName, LocalClient& b, const std::string& bName)
{
    a.sendLine(peerRequest("add", bName));
    b.sendLine(peerRequest("add", aName));
    return waitInRoster(a, bName) && waitInRoster(b, aName);
}

/// alice and bob on one indexd, contacts, a client attached to each once each sees the other.
struct ChatPair
{
    ChatNetwork net;
    std::unique_ptr<LocalClient> alice;
    std::unique_ptr<LocalClient> bob;

    /// indexdFlags as for ChatNetwork; peerdFlags go to both peerds (e.g.
    /// --log-level debug, to see every datagram they drop).
    explicit ChatPair(std::vector<std::string> indexdFlags = {}, const std::vector<std::string>& peerdFlags = {})
        : net(ChatNetwork::Wire::Secure, std::move(indexdFlags))
    {
        net.startPeerd("alice", peerdFlags);
        net.startPeerd("bob", peerdFlags);
        alice = net.attachOnline("alice");
        bob = net.attachOnline("bob");
        CPPUNIT_ASSERT_MESSAGE("alice and bob do not see each other:\n" + net.peerd("alice").log() + net.peerd("bob").log(),
                               befriend(*alice, "alice", *bob, "bob"));
    }
};

} // namespace peerchat::test
