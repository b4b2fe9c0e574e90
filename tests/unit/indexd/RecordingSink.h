#pragma once

#include "DatagramSink.h"
#include "Endpoint.h"

#include <string>
#include <vector>

namespace peerchat::test {

/// A DatagramSink that keeps every datagram instead of sending it.
class RecordingSink : public DatagramSink
{
public:
    struct Datagram
    {
        std::string bytes;
        Endpoint to;
    };

    void sendTo(std::string_view bytes, const Endpoint& to) override { sent.push_back(Datagram{std::string(bytes), to}); }

    /// The datagrams sent to to, in order.
    std::vector<std::string> to(const Endpoint& destination) const
    {
        std::vector<std::string> out;
        for (const auto& d : sent) {
            if (d.to == destination) out.push_back(d.bytes);
        }
        return out;
    }

    std::vector<Datagram> sent;
};

/// The endpoint written as text; the text must be a valid endpoint.
inline Endpoint endpoint(const std::string& text)
{
    return Endpoint::parse(text).value();
}

} // namespace peerchat::test
