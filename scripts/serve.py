"""Serves www/ on http://127.0.0.1:8080 the way production should: correct MIME types,
a strict Content-Security-Policy (no 'unsafe-eval'; 'wasm-unsafe-eval' lets WebAssembly
compile), and cross-origin isolation so wasm threads can use SharedArrayBuffer.

Usage: python3 scripts/serve.py [--root www] [--port 8080]
"""

import argparse
import functools
import http.server

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self'",
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The service worker and the Cache API own caching; the server always revalidates.
    "Cache-Control": "no-cache",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".safetensors": "application/octet-stream",
        ".webmanifest": "application/manifest+json",
        ".svg": "image/svg+xml",
        # The model card: shown as text in the tab rather than downloaded.
        ".md": "text/plain; charset=utf-8",
    }

    def end_headers(self):
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="www")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    handler = functools.partial(Handler, directory=args.root)
    with http.server.ThreadingHTTPServer((args.host, args.port), handler) as server:
        print(f"gatito: serving {args.root}/ on http://{args.host}:{args.port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
