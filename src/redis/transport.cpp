// SPDX-License-Identifier: MIT
// RESP over Asio TCP or asio::ssl::stream (OpenSSL 3).
#include "redis/transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <hiredis/hiredis.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <optional>

namespace ssecast::redis {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

struct Transport::Impl {
    Impl(net::io_context& ioc, TlsOptions opts) : tls(std::move(opts)), resolver(ioc) {
        if (tls.context) {
            secure.emplace(ioc, *tls.context);
        } else {
            plain.emplace(ioc);
        }
    }
    ~Impl() {
        if (reader != nullptr) {
            redisReaderFree(reader);
        }
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }

    TlsOptions tls; ///< keeps the ssl::context alive as long as the stream
    tcp::resolver resolver;
    std::optional<tcp::socket> plain;
    std::optional<ssl::stream<tcp::socket>> secure;
    redisReader* reader = redisReaderCreate();
    std::array<char, 16 * 1024> buffer{};
};

std::shared_ptr<Transport> Transport::create(net::io_context& ioc, TlsOptions tls) {
    return std::shared_ptr<Transport>(new Transport(std::make_unique<Impl>(ioc, std::move(tls))));
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Transport::~Transport() {
    close();
}

void Transport::connect(const std::string& host, std::uint16_t port, Connected done) {
    auto self = shared_from_this();
    impl_->resolver.async_resolve(
        host, std::to_string(port),
        [self, done = std::move(done)](boost::system::error_code ec,
                                       tcp::resolver::results_type results) mutable {
            if (self->closed_) {
                return;
            }
            if (ec) {
                done("cannot resolve: " + ec.message(), false);
                return;
            }
            net::async_connect(
                self->impl_->socket(), results,
                [self, done = std::move(done)](boost::system::error_code cec,
                                               const tcp::endpoint&) mutable {
                    if (self->closed_) {
                        return;
                    }
                    if (cec) {
                        done(cec.message(), false);
                        return;
                    }
                    boost::system::error_code ignored;
                    self->impl_->socket().set_option(tcp::no_delay(true), ignored);
                    auto& impl = *self->impl_;
                    if (!impl.secure) {
                        done({}, false);
                        return;
                    }
                    const std::string& name = impl.tls.server_name;
                    boost::system::error_code not_ip;
                    (void)net::ip::make_address(name, not_ip);
                    // SNI carries host names only (RFC 6066 §3).
                    if (not_ip &&
                        !SSL_set_tlsext_host_name(impl.secure->native_handle(), name.c_str())) {
                        done("TLS: cannot set the server name", true);
                        return;
                    }
                    if (impl.tls.verify) {
                        // OpenSSL's own name check (RFC 6125: SAN DNS or IP entries), so a
                        // mismatch is reported as "hostname mismatch".
                        SSL* ssl_handle = impl.secure->native_handle();
                        const int named = not_ip ? SSL_set1_host(ssl_handle, name.c_str())
                                                 : X509_VERIFY_PARAM_set1_ip_asc(
                                                       SSL_get0_param(ssl_handle), name.c_str());
                        if (named != 1) {
                            done("TLS: cannot set the name to verify", true);
                            return;
                        }
                        impl.secure->set_verify_mode(ssl::verify_peer);
                    } else {
                        impl.secure->set_verify_mode(ssl::verify_none);
                    }
                    self->tls_handshaking_ = true;
                    impl.secure->async_handshake(
                        ssl::stream_base::client,
                        [self, done = std::move(done)](boost::system::error_code hec) {
                            self->tls_handshaking_ = false;
                            if (self->closed_) {
                                return;
                            }
                            if (hec) {
                                std::string why = "TLS handshake: " + hec.message();
                                const long v =
                                    SSL_get_verify_result(self->impl_->secure->native_handle());
                                if (v != X509_V_OK) {
                                    why +=
                                        std::string(" (") + X509_verify_cert_error_string(v) + ")";
                                }
                                done(why, true);
                                return;
                            }
                            done({}, false);
                        });
                });
        });
}

void Transport::start(OnReply on_reply, OnClosed on_closed) {
    on_reply_ = std::move(on_reply);
    on_closed_ = std::move(on_closed);
    read_more();
    if (!queued_.empty()) {
        flush();
    }
}

void Transport::read_more() {
    auto self = shared_from_this();
    auto on_read = [self](boost::system::error_code ec, std::size_t n) {
        if (self->closed_) {
            return;
        }
        if (ec) {
            const bool eof = ec == net::error::eof || ec == ssl::error::stream_truncated;
            self->fail(eof ? std::string("Server closed the connection") : ec.message());
            return;
        }
        auto& impl = *self->impl_;
        if (redisReaderFeed(impl.reader, impl.buffer.data(), n) != REDIS_OK) {
            self->fail(std::string("protocol error: ") + impl.reader->errstr);
            return;
        }
        for (;;) {
            void* reply = nullptr;
            if (redisReaderGetReply(impl.reader, &reply) != REDIS_OK) {
                self->fail(std::string("protocol error: ") + impl.reader->errstr);
                return;
            }
            if (reply == nullptr) {
                break;
            }
            auto* r = static_cast<redisReply*>(reply);
            self->on_reply_(*r); // may close() this transport
            freeReplyObject(r);
            if (self->closed_) {
                return;
            }
        }
        self->read_more();
    };
    auto buf = net::buffer(impl_->buffer);
    if (impl_->secure) {
        impl_->secure->async_read_some(buf, std::move(on_read));
    } else {
        impl_->plain->async_read_some(buf, std::move(on_read));
    }
}

void Transport::write(std::string bytes) {
    if (closed_) {
        return;
    }
    queued_ += bytes;
    if (on_closed_ && !writing_) {
        flush(); // before start(), bytes wait (the handshake is queued from the connect callback)
    }
}

void Transport::flush() {
    if (writing_ || queued_.empty() || closed_) {
        return;
    }
    writing_ = true;
    inflight_.swap(queued_);
    queued_.clear();
    auto self = shared_from_this();
    auto on_written = [self](boost::system::error_code ec, std::size_t) {
        if (self->closed_) {
            return;
        }
        self->writing_ = false;
        self->inflight_.clear();
        if (ec) {
            self->fail(ec.message());
            return;
        }
        self->flush();
    };
    if (impl_->secure) {
        net::async_write(*impl_->secure, net::buffer(inflight_), std::move(on_written));
    } else {
        net::async_write(*impl_->plain, net::buffer(inflight_), std::move(on_written));
    }
}

void Transport::fail(const std::string& why) {
    auto on_closed = std::move(on_closed_);
    close();
    if (on_closed) {
        on_closed(why);
    }
}

void Transport::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    boost::system::error_code ignored;
    impl_->resolver.cancel();
    impl_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    impl_->socket().close(ignored);
}

std::string Transport::format(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    char* cmd = nullptr;
    const int n =
        redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), lens.data());
    if (n < 0 || cmd == nullptr) {
        return {};
    }
    std::string out(cmd, static_cast<std::size_t>(n));
    redisFreeCommand(cmd);
    return out;
}

} // namespace ssecast::redis
