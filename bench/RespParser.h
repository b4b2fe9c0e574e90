#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace peerchat::bench {

/// Reads RESP2 as redis-server sends it to RedisFanout's connections (none
/// asks for RESP3 with HELLO): the replies to PUBLISH, PING and CONFIG GET,
/// and the pub/sub pushes, which are flat arrays of bulk strings and
/// integers. A connection feeds it the bytes it reads and takes whole frames
/// out. Only a frame split across reads is copied, to wait for its end:
/// other frames are parsed where the bytes lie, so that thousands of idle
/// connections hold no buffer.
class RespParser
{
public:
    /// One value; an array's elements follow it in a Frame.
    struct Value
    {
        enum class Type : std::uint8_t { Simple, Error, Integer, Bulk, Null, Array };
        Type type = Type::Null;
        std::string_view text;  ///< Simple, Error, Bulk: a view into the bytes parsed
        long long integer = 0;  ///< Integer; for an Array, its length
    };

    /// A reply or push: one value and, for an array, its elements.
    struct Frame
    {
        Value head;
        std::array<Value, 4> items;  ///< the longest array these connections receive has 3 elements

        /// True when this is a pub/sub push of kind ("message", "subscribe",
        /// "unsubscribe"): an array of 3, kind, a bulk string, and a third
        /// element of type third.
        bool isPush(std::string_view kind, Value::Type third) const;
        /// The frame as a person reads it in an error message.
        std::string describe() const;
    };

    enum class Status : std::uint8_t { Complete, Incomplete, Malformed };

    /// Takes bytes just read, which follow the incomplete frame the bytes
    /// before ended with. They are parsed in place: they must stay as they are
    /// until next() has returned Incomplete, or until reset().
    void feed(std::string_view bytes);

    /// Parses the next frame of the bytes fed into frame. Complete: frame's
    /// strings view the bytes, valid until the next call. Incomplete: what is
    /// left of the bytes is kept until more come. Malformed: they are not
    /// RESP, reason() says why, and every later call says Malformed too.
    Status next(Frame& frame);

    /// Why the bytes are not RESP, once next() said Malformed.
    const std::string& reason() const { return _reason; }

    /// Forgets the bytes fed, and a frame waiting for its end.
    void reset();

private:
    /// Copies what is left of the bytes into _tail, to wait for the rest of the frame.
    void keepRest();

    std::string_view _bytes;  ///< the bytes being parsed: the last fed, or _tail and them
    std::size_t _used = 0;    ///< the bytes of _bytes parsed into frames
    bool _parsing = false;    ///< _bytes is valid: feed() came and next() has not said Incomplete yet
    std::string _tail;        ///< the start of a frame whose end has not come
    std::string _reason;
};

} // namespace peerchat::bench
