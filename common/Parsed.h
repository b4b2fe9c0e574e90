#pragma once

#include <string>
#include <utility>
#include <variant>

namespace peerchat {

/// The outcome of a total parse: either a value or the reason it was refused.
/// Decoders in common/ return this instead of throwing, so bad bytes never
/// reach state and never escape as exceptions.
template <typename T>
class Parsed
{
public:
    Parsed(T value) : _result(std::move(value)) {}

    /// A refusal with a human-readable reason ("name has a comma").
    static Parsed refuse(std::string reason) { return Parsed(Refusal{std::move(reason)}); }

    bool ok() const { return _result.index() == 0; }
    explicit operator bool() const { return ok(); }

    const T& value() const { return std::get<0>(_result); }
    T& value() { return std::get<0>(_result); }
    const T& operator*() const { return value(); }
    const T* operator->() const { return &value(); }

    /// Why the input was refused; empty when ok().
    const std::string& error() const
    {
        static const std::string none;
        return ok() ? none : std::get<1>(_result).reason;
    }

private:
    struct Refusal { std::string reason; };
    explicit Parsed(Refusal r) : _result(std::move(r)) {}
    std::variant<T, Refusal> _result;
};

} // namespace peerchat
