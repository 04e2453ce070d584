import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { DemoAuthService } from './demo-auth.service';

class LoginDto {
  @IsString()
  @MaxLength(40)
  name!: string;
}

/** `POST /demo/login {name}` → `{token, user_id, admin}` (the demo host's sign-in). */
@Controller('demo')
export class DemoAuthController {
  constructor(private readonly auth: DemoAuthService) {}

  @Post('login')
  @HttpCode(200)
  login(@Body() body: LoginDto): { token: string; user_id: string; admin: boolean } {
    const result = this.auth.login(body.name);
    if (!result)
      throw new BadRequestException("name must be 1 to 40 letters, digits, spaces or . _ ' -");
    return { token: result.token, user_id: result.userId, admin: result.admin };
  }
}
