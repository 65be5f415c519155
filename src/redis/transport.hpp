// SPDX-License-Identifier: MIT
// One TCP or TLS link to Redis over Boost.Asio, speaking RESP through hiredis' own reply
// reader and command formatter (hiredis 0.14 has neither TLS nor pluggable I/O).
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct redisReply;

namespace boost::asio::ssl {
class context;
}

namespace ssecast::redis {

/// TLS settings of a link: null `context` = plain TCP.
struct TlsOptions {
    std::shared_ptr<boost::asio::ssl::context> context; ///< CA, client cert, verify mode
    std::string server_name; ///< SNI (unless an IP literal) and the name the cert must match
    bool verify = true;      ///< check the chain against the CA and the name
};

/// A single connection attempt and, once connected, its byte stream.
///
/// Threading: every call and callback on the io_context's thread. Ownership: create()
/// returns a shared_ptr; pending operations hold their own reference, so buffers outlive
/// the caller's pointer. After close() returns no callback of this object runs again.
class Transport : public std::enable_shared_from_this<Transport> {
  public:
    /// `error` empty on success; `tls` true when the TLS handshake or verification failed.
    using Connected = std::function<void(const std::string& error, bool tls)>;
    /// One parsed reply, owned by the transport (freed when the callback returns).
    using OnReply = std::function<void(const redisReply& reply)>;
    using OnClosed = std::function<void(const std::string& why)>;

    static std::shared_ptr<Transport> create(boost::asio::io_context& ioc, TlsOptions tls);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    /// Resolves `host`, connects (TCP_NODELAY), then, with TLS, handshakes and verifies.
    /// No timeout of its own: the caller bounds it and calls close().
    void connect(const std::string& host, std::uint16_t port, Connected done);
    /// Starts the read loop: every reply in order to `on_reply`; `on_closed` once when the
    /// peer closes ("Server closed the connection"), a read or write fails, or the bytes are
    /// not RESP. Call once, after a successful connect.
    void start(OnReply on_reply, OnClosed on_closed);
    /// Queues bytes (one write in flight, the rest appended): pipelining for free.
    void write(std::string bytes);
    /// Cancels everything and closes the socket; idempotent.
    void close();
    /// True while the TLS handshake is in flight (a timeout then means "not a TLS port?").
    bool tls_handshaking() const noexcept { return tls_handshaking_; }

    /// The RESP encoding of one command (binary-safe arguments).
    static std::string format(const std::vector<std::string>& args);

  private:
    struct Impl;
    explicit Transport(std::unique_ptr<Impl> impl);
    void read_more();
    void flush();
    void fail(const std::string& why);

    std::unique_ptr<Impl> impl_;
    bool closed_ = false;
    bool writing_ = false;
    bool tls_handshaking_ = false;
    std::string queued_;   ///< bytes waiting for the write in flight
    std::string inflight_; ///< bytes of the write in flight
    OnReply on_reply_;
    OnClosed on_closed_;
};

} // namespace ssecast::redis
