#pragma once

#include "DatagramSink.h"
#include "FaultSettings.h"
#include "Timers.h"

#include <random>
#include <set>
#include <string>

namespace peerchat {

/// A DatagramSink in front of another that misbehaves as FaultSettings say:
/// drops, sends twice, delays and reorders datagrams on purpose, repeatably
/// for one seed. For tests on loopback (this machine has no netem); the
/// daemons put it in front of their socket only when --faults asks.
class FaultySink : public DatagramSink
{
public:
    FaultySink(DatagramSink& inner, Timers& timers, const FaultSettings& faults);
    ~FaultySink() override;
    FaultySink(const FaultySink&) = delete;
    FaultySink& operator=(const FaultySink&) = delete;

    void sendTo(std::string_view bytes, const Endpoint& to) override;

private:
    void sendLater(std::chrono::milliseconds delay, std::string bytes, const Endpoint& to);

    DatagramSink& _inner;
    Timers& _timers;
    FaultSettings _faults;
    std::mt19937_64 _random;
    std::set<Timers::TimerId> _delayed;
};

} // namespace peerchat
