// Everything peerd parses from a TURN server or, through it, a relayed peer:
// a STUN message or ChannelData accepted by its decoder prints back to bytes
// that decode to the same message, and a TurnClient with an allocation and a
// bound channel takes any datagram without throwing or changing its relay.
#include "ChannelData.h"
#include "FuzzCheck.h"
#include "StunMessage.h"
#include "TurnClient.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using peerchat::ChannelData;
using peerchat::Endpoint;
using peerchat::StunMessage;
using peerchat::TurnClient;
using peerchat::fuzz::require;

const Endpoint kServer = *Endpoint::parse("198.51.100.1:3479");
const Endpoint kRelayed = *Endpoint::parse("198.51.100.1:50000");
const Endpoint kPeer = *Endpoint::parse("192.0.2.20:6000");

// Answers the one request the client has just sent, as a server would.
void answer(TurnClient& client, bool unauthorized, const std::string& key)
{
    const auto datagrams = client.takeDatagrams();
    require(datagrams.size() == 1, "the client sent one request");
    const auto request = StunMessage::decode(datagrams.front());
    require(request.ok(), "the client's request decodes");
    StunMessage reply(request->method(), unauthorized ? StunMessage::Kind::Error : StunMessage::Kind::Success,
                      request->transaction());
    if (unauthorized) {
        reply.addAttribute(StunMessage::Attribute::ErrorCode, std::string{0, 0, 4, 1} + "Unauthorized");
        reply.addString(StunMessage::Attribute::Realm, "peerchat");
        reply.addString(StunMessage::Attribute::Nonce, "n");
        client.receive(reply.encode(), TurnClient::TimePoint());
        return;
    }
    if (request->method() == StunMessage::Method::Allocate)
        reply.addXorAddress(StunMessage::Attribute::XorRelayedAddress, kRelayed);
    client.receive(reply.encode(&key, true), TurnClient::TimePoint());
}

// A client with an allocation and channel 0x4000 bound to kPeer, made once.
const TurnClient& boundClient()
{
    static const TurnClient client = [] {
        const peerchat::TurnCredentials credentials{"1765000000:alice", "pw"};
        const std::string key = StunMessage::longTermKey(credentials.username, "peerchat", credentials.password);
        TurnClient made(kServer, credentials);
        made.allocate(TurnClient::TimePoint());
        answer(made, true, key);
        answer(made, false, key);
        made.sendToPeer(kPeer, "x", TurnClient::TimePoint());
        answer(made, false, key);
        made.takeDatagrams();
        require(made.channelBound(kPeer), "the fuzzed client has a bound channel");
        return made;
    }();
    return client;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    const auto message = StunMessage::decode(bytes);
    if (message) {
        const std::string encoded = message->encode();
        const auto again = StunMessage::decode(encoded);
        require(again.ok(), "an accepted STUN message, encoded, decodes again");
        require(again->method() == message->method() && again->kind() == message->kind()
                    && again->transaction() == message->transaction(),
                "the header survives a round trip");
        require(again->encode() == encoded, "a round trip encodes to the same bytes");
        message->xorAddress(StunMessage::Attribute::XorPeerAddress);
        message->hasValidIntegrity("key");
        message->errorCode();
    } else {
        require(!message.error().empty(), "a refusal says why");
    }

    const auto channel = ChannelData::decode(bytes);
    if (channel) {
        const auto again = ChannelData::decode(channel->encode());
        require(again.ok() && again->channel == channel->channel && again->payload == channel->payload,
                "accepted ChannelData survives a round trip");
    }

    TurnClient client = boundClient();
    const auto datagram = client.receive(bytes, TurnClient::TimePoint());
    if (channel && channel->channel == 0x4000) {
        require(datagram && datagram->peer == kPeer && datagram->payload == channel->payload,
                "ChannelData on the bound channel comes out as the peer's payload");
    }
    require(client.relayedEndpoint() == std::optional<Endpoint>(kRelayed), "no datagram moves the relay");
    return 0;
}
