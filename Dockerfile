# syntax=docker/dockerfile:1
# Build a static binary, ship it on distroless as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/waypoint .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/waypoint /waypoint
USER nonroot:nonroot
EXPOSE 8080
ENV WAYPOINT_ADDR=0.0.0.0:8080
ENTRYPOINT ["/waypoint"]
CMD ["serve"]
