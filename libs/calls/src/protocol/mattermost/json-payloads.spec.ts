import { InvalidMessageError } from '../../errors/invalid-message.error';
import { parseStreamId, parseTrackSettings } from './json-payloads';

describe('Mattermost JSON payloads', () => {
  it('reads the stream id of screen_on and video_on', () => {
    expect(parseStreamId('{"videoStreamID":"cam-1"}', 'videoStreamID')).toBe('cam-1');
    expect(() => parseStreamId('{"screenStreamID":""}', 'screenStreamID')).toThrow(
      InvalidMessageError,
    );
  });

  it('reads track_settings: the sender, camera or screen, and what is wanted of it', () => {
    expect(
      parseTrackSettings('{"session_id":"s2","type":"video","width":320,"height":180}'),
    ).toEqual({
      video: { sessionId: 's2', type: 'video' },
      preference: { width: 320, height: 180 },
    });
    expect(parseTrackSettings('{"session_id":"s2","type":"screen","disabled":true}')).toEqual({
      video: { sessionId: 's2', type: 'screen' },
      preference: { disabled: true },
    });
    expect(parseTrackSettings('{"session_id":"s2","type":"video","quality":"low"}')).toEqual({
      video: { sessionId: 's2', type: 'video' },
      preference: { quality: 'low' },
    });
    // Nothing but the sender: back to the default.
    expect(parseTrackSettings('{"session_id":"s2","type":"video"}').preference).toEqual({});
  });

  it.each([
    ['[]', 'is not a JSON object'],
    ['{"type":"video"}', 'session_id'],
    ['{"session_id":"s2","type":"voice"}', 'type'],
    ['{"session_id":"s2","type":"video","disabled":"yes"}', 'disabled'],
    ['{"session_id":"s2","type":"video","width":-1}', 'width'],
    ['{"session_id":"s2","type":"video","height":1.5}', 'height'],
    ['{"session_id":"s2","type":"video","width":100000}', 'width'],
    ['{"session_id":"s2","type":"video","quality":"best"}', 'quality'],
  ])('refuses malformed track_settings %s', (text, field) => {
    expect(() => parseTrackSettings(text)).toThrow(InvalidMessageError);
    expect(() => parseTrackSettings(text)).toThrow(field);
  });
});
