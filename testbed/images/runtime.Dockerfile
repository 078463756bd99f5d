# The one image every testbed service runs (app services, PostgreSQL, Redis, Prometheus,
# exporters): one apt layer keeps the cold build short and the disk small. Fault tools
# (stress-ng, fio, iperf3, tc, iptables) live here too, so a fault runs inside its target's
# cgroup and network namespace. BASE_IMAGE is debian:bookworm-slim, or the debootstrap image
# faultlab builds when no registry is reachable.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-aiohttp python3-prometheus-client python3-redis python3-asyncpg \
      python3-psycopg2 python3-docker python3-requests \
      postgresql redis-server prometheus prometheus-node-exporter \
      stress-ng fio iperf3 iproute2 iptables nftables curl procps ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
# Least privilege (testbed/README.md, "Users and capabilities"): the shop, Locust, Prometheus and
# the node exporter run as the unprivileged user faultlab (uid/gid 10001, the image's default
# user); PostgreSQL and Redis as the postgres and redis users their Debian packages create.
RUN groupadd --system --gid 10001 faultlab \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin faultlab \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/faultlab \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY app /opt/faultlab/app
COPY prometheus /opt/faultlab/prometheus
COPY images/entrypoints /opt/faultlab/bin
ENV PYTHONPATH=/opt/faultlab PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PATH=/opt/faultlab/bin:$PATH
LABEL org.faultlab.image=runtime
USER 10001:10001
