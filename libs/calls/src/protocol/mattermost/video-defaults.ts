import type { MediaSessionOptions } from '../../media/media-plane.interface';

/**
 * How a Mattermost session receives cameras until its client says otherwise (`track_settings`):
 * up to the layer that covers 640×360, a tile of a grid (a 720p camera's middle layer, the top
 * layer of a 360p one). Stock Mattermost clients never say; screen shares come at the best layer
 * the bandwidth allows.
 */
export const MATTERMOST_CAMERA_PREFERENCE = { width: 640, height: 360 } as const;

/** The media options of a Mattermost session: it joins muted, cameras as above. */
export const MATTERMOST_MEDIA: MediaSessionOptions = {
  muted: true,
  cameraPreference: MATTERMOST_CAMERA_PREFERENCE,
};
