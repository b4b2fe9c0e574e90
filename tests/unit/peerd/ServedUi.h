#pragma once

#include "PeerStore.h"
#include "DatagramSink.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "KeyPins.h"
#include "LocalClient.h"
#include "Roster.h"
#include "SigningKey.h"
#include "TempDir.h"
#include "UiServer.h"
#include "WireLink.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace peerchat::test {

/// A UiServer for alice on a real local socket, with a WireLink that never
/// logs in, on a loop of its own thread: tests attach LocalClients to it and
/// touch the state the loop owns from the loop's thread only, through onLoop().
class ServedUi
{
public:
    explicit ServedUi(UiServer::Limits limits = UiServer::defaultLimits())
    {
        _server = std::make_unique<UiServer>(_loop, _roster, _store.lines, _store.incoming, _pins, _identity.publicKey(), "alice",
                                             socketPath(), limits);
        WireLink::Settings settings;
        settings.self = "alice";
        settings.index = Endpoint::parse("127.0.0.1:9").value();
        _wire = std::make_unique<WireLink>(_loop, _sink, _roster, _store, _pins, _identity, *_server, settings,
                                           [](const std::string&) {});
        _server->serve(*_wire);
        _thread = std::thread([this] { _loop.run(); });
    }

    /// Stops the loop; the server then stops from this thread.
    ~ServedUi()
    {
        _loop.stop();
        _thread.join();
    }

    ServedUi(const ServedUi&) = delete;
    ServedUi& operator=(const ServedUi&) = delete;

    std::string socketPath() const { return _dir.file("alice.sock"); }
    UiServer& server() { return *_server; }
    Roster& roster() { return _roster; }
    KeyPins& pins() { return _pins; }
    PeerStore& store() { return _store; }
    const SigningKey& identity() const { return _identity; }

    /// Runs task on the loop's thread and waits for it; what it throws is thrown here.
    void onLoop(const std::function<void()>& task)
    {
        auto done = std::make_shared<std::promise<void>>();
        std::future<void> finished = done->get_future();
        _loop.post([task, done] {
            try {
                task();
                done->set_value();
            } catch (...) {
                done->set_exception(std::current_exception());
            }
        });
        CPPUNIT_ASSERT_MESSAGE("the loop did not run the task",
                               finished.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        finished.get();
    }

    /// A client whose welcome has been taken.
    LocalClient attach()
    {
        LocalClient client(socketPath());
        CPPUNIT_ASSERT_MESSAGE("no welcome", client.waitEvent("welcome"));
        return client;
    }

private:
    /// Drops every datagram: the wire never logs in.
    class NullSink : public DatagramSink
    {
    public:
        void sendTo(std::string_view, const Endpoint&) override {}
    };

    TempDir _dir;
    EventLoop _loop;
    Roster _roster{"alice"};
    PeerStore _store{100};
    KeyPins _pins{_store.keys, _store.outbox};
    SigningKey _identity = SigningKey::generate();
    NullSink _sink;
    std::unique_ptr<UiServer> _server;
    std::unique_ptr<WireLink> _wire;
    std::thread _thread;
};

} // namespace peerchat::test
