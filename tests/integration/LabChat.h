#pragma once

#include "ChatNetwork.h"
#include "CoturnProcess.h"
#include "NetLab.h"
#include "PacketCapture.h"
#include "TempDir.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace peerchat::test {

/// A chat in the NAT lab (NetLab) for a test or a benchmark: indexd and a
/// coturn in pub (indexd hands out credentials for it, --turn), peerds
/// started in lab hosts, each with a client attached, and lines sent and
/// timed until their ack, through the peerds' local sockets.
class LabChat
{
public:
    // indexd lets each user log in as often as the trials restart it.
    static constexpr std::chrono::seconds kLogin{30};

    explicit LabChat(const NetLab::Options& options = {}, std::vector<std::string> peerdFlags = {})
        : _lab(options),
          _coturn(CoturnProcess::Options{_lab.addresses().pub, _lab.commandIn(NetLab::Host::Pub)}),
          _net(ChatNetwork::Wire::Secure,
               {"--logins-per-minute", "1000", "--turn", _coturn.endpoint().toString(), "--turn-secret-file",
                secretFile(_turnDir, _coturn.secret())},
               {_lab.commandIn(NetLab::Host::Pub), _lab.addresses().pub}),
          _peerdFlags(std::move(peerdFlags))
    {
        _coturn.start();
    }

    NetLab& lab() { return _lab; }
    CoturnProcess& coturn() { return _coturn; }
    ChatNetwork& net() { return _net; }
    LocalClient& client(const std::string& user) { return *_clients.at(user); }

    // Starts (or restarts) user's peerd in host and attaches a client.
    void start(const std::string& user, NetLab::Host host)
    {
        const auto& at = _lab.addresses();
        const std::map<NetLab::Host, std::string> addresses{
            {NetLab::Host::Pub, at.pub},     {NetLab::Host::Alice, at.alice},
            {NetLab::Host::Bob, at.bob},     {NetLab::Host::Carol, at.carol}};
        _clients.erase(user);
        _subscribed.erase(user);
        _net.place(user, {_lab.commandIn(host), addresses.at(host)});
        _net.startPeerd(user, _peerdFlags);
        _clients[user] = _net.attachOnline(user);
    }

    // alice, bob and carol each in the lab host of the name.
    void start(const std::string& user)
    {
        static const std::map<std::string, NetLab::Host> hosts{
            {"alice", NetLab::Host::Alice}, {"bob", NetLab::Host::Bob}, {"carol", NetLab::Host::Carol}};
        start(user, hosts.at(user));
    }

    // Stops user's peerd (SIGTERM: it logs out).
    void stop(const std::string& user)
    {
        _clients.erase(user);
        _net.peerd(user).signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _net.peerd(user).waitExit());
    }

    // Makes every two of users contacts, as people do (each adds the other:
    // peerchat users see only their contacts online, get only their
    // endpoints, and are introduced to punch only to them), and waits until
    // each sees all the others online.
    void befriend(const std::vector<std::string>& users)
    {
        for (std::size_t i = 0; i < users.size(); ++i) {
            for (std::size_t j = i + 1; j < users.size(); ++j) {
                client(users[i]).sendLine(peerRequest("add", users[j]));
                client(users[j]).sendLine(peerRequest("add", users[i]));
            }
        }
        waitRosters(users);
    }

    // Waits until each of users sees all the others online.
    void waitRosters(const std::vector<std::string>& users)
    {
        for (const auto& user : users) {
            const bool all = waitUntil([&] {
                const auto names = rosterNames(client(user));
                for (const auto& other : users) {
                    if (other != user && std::find(names.begin(), names.end(), other) == names.end()) return false;
                }
                return true;
            }, kLogin);
            CPPUNIT_ASSERT_MESSAGE(user + " never saw the others online:\n" + _net.peerd(user).log(), all);
        }
    }

    // Sends text from from to to and returns how long until from's peerd
    // reported it delivered (the ack came) and to's client showed it; fails
    // the test when that takes longer than within.
    std::chrono::microseconds deliver(const std::string& from, const std::string& to, const std::string& text,
                                      std::chrono::milliseconds within)
    {
        subscribe(from, to);
        subscribe(to, from);
        const auto start = std::chrono::steady_clock::now();
        const std::string key = "k" + std::to_string(++_sends);
        client(from).sendLine(R"({"op":"send","to":")" + to + R"(","text":")" + text + R"(","key":")" + key + R"("})");
        const auto sent = client(from).waitFor([&](const LocalClient::Object& e) {
            return e->optValue<std::string>("event", "") == "sent" && e->optValue<std::string>("key", "") == key;
        });
        CPPUNIT_ASSERT_MESSAGE("no sent event for " + text, sent);
        const auto id = sent->getValue<std::uint64_t>("id");
        const auto delivered = client(from).waitFor(
            [&](const LocalClient::Object& e) {
                return e->optValue<std::string>("event", "") == "status" && e->getValue<std::string>("peer") == to &&
                       e->getValue<std::uint64_t>("id") == id && e->getValue<std::string>("state") == "delivered";
            },
            within);
        // Microseconds: on a flat segment the line takes less than a millisecond.
        const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        CPPUNIT_ASSERT_MESSAGE(from + " -> " + to + ": '" + text + "' not acked within " +
                                   std::to_string(within.count()) + " ms\n" + from + ":\n" + _net.peerd(from).log() +
                                   "\n" + to + ":\n" + _net.peerd(to).log() + "\nindexd:\n" + _net.indexd().log(),
                               delivered);
        CPPUNIT_ASSERT_MESSAGE(to + " did not show '" + text + "'", waitMessage(client(to), text, std::chrono::seconds(5)));
        return elapsed;
    }

    // The texts of the lines peer wrote to user, oldest first, as user's
    // peerd keeps them (a fresh client's history).
    std::vector<std::string> received(const std::string& user, const std::string& peer)
    {
        LocalClient fresh(_net.socketOf(user));
        CPPUNIT_ASSERT(fresh.waitEvent("welcome"));
        fresh.sendLine(peerRequest("subscribe", peer));
        std::vector<std::string> texts;
        while (const auto history = fresh.waitEvent("history", std::chrono::seconds(2))) {
            const auto lines = history->getArray("lines");
            for (std::size_t i = 0; i < lines->size(); ++i) {
                const auto line = lines->getObject(i);
                if (!line->template getValue<bool>("outgoing")) texts.push_back(line->getValue<std::string>("text"));
            }
        }
        return texts;
    }

    // What capture holds once everything sent before this call is in it:
    // tcpdump writes its file in its own time, so a marker goes last (from
    // pub's second address to a closed port) and is waited for.
    std::vector<PacketCapture::Datagram> captured(PacketCapture& capture)
    {
        const std::string marker = "marker " + std::to_string(++_markers);
        auto socket = _lab.udpSocketIn(NetLab::Host::Pub, Poco::Net::SocketAddress(_lab.addresses().pub2, 0));
        socket.sendTo(marker.data(), static_cast<int>(marker.size()),
                      Poco::Net::SocketAddress(_lab.addresses().nat2Wan, 9));
        CPPUNIT_ASSERT_MESSAGE("the capture never saw its marker", capture.waitCaptured(marker));
        return capture.stop();
    }

    // True when datagram went to or came from the TURN server's port: with
    // no allocation made there, nothing went through the relay.
    bool toRelay(const PacketCapture::Datagram& datagram) const
    {
        const std::string server = _coturn.endpoint().toString();
        return datagram.source == server || datagram.destination == server;
    }

    // The path user's peerd reports to peer now.
    std::string path(const std::string& user, const std::string& peer)
    {
        const auto users = rosterUsers(client(user));
        for (std::size_t i = 0; i < users->size(); ++i) {
            if (users->getObject(i)->getValue<std::string>("name") == peer)
                return users->getObject(i)->getValue<std::string>("path");
        }
        return "(not online)";
    }

private:
    // The secret coturn shares with indexd, in a file only its owner reads.
    static std::string secretFile(const TempDir& dir, const std::string& secret)
    {
        const std::string path = dir.file("turn-secret");
        std::ofstream(path) << secret << "\n";
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(path.c_str(), 0600));
        return path;
    }

    void subscribe(const std::string& user, const std::string& peer)
    {
        if (!_subscribed[user].insert(peer).second) return;
        subscribeTo(client(user), peer);
    }

    NetLab _lab;
    TempDir _turnDir;
    CoturnProcess _coturn;
    ChatNetwork _net;
    std::vector<std::string> _peerdFlags;
    std::map<std::string, std::unique_ptr<LocalClient>> _clients;
    std::map<std::string, std::set<std::string>> _subscribed;
    int _sends = 0;
    int _markers = 0;
};


} // namespace peerchat::test
