# Build stage: full install (typescript, vite) and compile the API and the web app.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY scripts ./scripts
COPY src ./src
COPY client ./client
COPY web ./web
# Built here, once: the image runs `node dist/…` directly and never builds at start.
RUN npm run build

# Runtime stage: production dependencies, compiled code, the built web app (dist/web) and the database code (db/: migrations and functions) only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY db ./db
USER node
EXPOSE 3000
# The same image runs the worker: `node dist/worker.js`.
CMD ["node", "dist/server.js"]
