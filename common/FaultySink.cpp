#include "FaultySink.h"

#include <algorithm>
#include <memory>

namespace peerchat {

FaultySink::FaultySink(DatagramSink& inner, Timers& timers, const FaultSettings& faults)
    : _inner(inner), _timers(timers), _faults(faults), _random(faults.seed)
{
}

FaultySink::~FaultySink()
{
    for (const auto id : _delayed) _timers.cancel(id);
}

void FaultySink::sendTo(std::string_view bytes, const Endpoint& to)
{
    std::uniform_real_distribution<double> chance(0.0, 1.0);
    if (chance(_random) < _faults.drop) return;
    const int copies = chance(_random) < _faults.duplicate ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        auto delay = std::chrono::milliseconds(
            std::uniform_int_distribution<long long>(0, _faults.delay.count())(_random));
        // Held back long enough for datagrams sent after it to overtake it.
        if (chance(_random) < _faults.reorder) delay += std::max(_faults.delay, std::chrono::milliseconds(10)) * 2;
        if (delay.count() == 0) _inner.sendTo(bytes, to);
        else sendLater(delay, std::string(bytes), to);
    }
}

void FaultySink::sendLater(std::chrono::milliseconds delay, std::string bytes, const Endpoint& to)
{
    auto id = std::make_shared<Timers::TimerId>(0);
    *id = _timers.runAfter(delay, [this, id, bytes = std::move(bytes), to] {
        _delayed.erase(*id);
        _inner.sendTo(bytes, to);
    });
    _delayed.insert(*id);
}

} // namespace peerchat
